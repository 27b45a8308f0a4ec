"""Reference data (public) and API keys."""

from datetime import datetime
from typing import Any

from yiwang_client.calls import Call, operation
from yiwang_client.inputs import Dec
from yiwang_client.models import (
    Chip,
    Conversion,
    Page,
    Profile,
    Provider,
    Region,
    Surcharge,
    Token,
)
from yiwang_client.operations.common import get_call, json_body


class ReferenceOperations:
    """Regions, chips, profiles, conversion, surcharges, providers; a new key."""

    @operation("regions_list")
    def list_regions(
        self,
        *,
        hub: str | None = None,
        role: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Call[Page[Region]]:
        return get_call(
            "regions/", Page[Region], hub=hub, role=role, limit=limit, offset=offset
        )

    @operation("chips_list")
    def list_chips(
        self,
        *,
        kind: str | None = None,
        stack: str | None = None,
        vendor: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Call[Page[Chip]]:
        params = {"kind": kind, "stack": stack, "vendor": vendor}
        return get_call("chips/", Page[Chip], **params, limit=limit, offset=offset)

    @operation("profiles_list")
    def list_profiles(
        self, *, limit: int | None = None, offset: int | None = None
    ) -> Call[Page[Profile]]:
        return get_call("profiles/", Page[Profile], limit=limit, offset=offset)

    @operation("conversion_retrieve")
    def get_conversion(
        self,
        *,
        chip: str,
        profile: str,
        count: int | None = None,
        hours: Dec | None = None,
        version: int | None = None,
    ) -> Call[Conversion]:
        params = {"chip": chip, "profile": profile, "count": count, "hours": hours}
        return get_call("conversion/", Conversion, **params, version=version)

    @operation("surcharges_list")
    def list_surcharges(
        self,
        *,
        profile: str,
        version: int | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Call[Page[Surcharge]]:
        params = {"profile": profile, "version": version}
        return get_call(
            "surcharges/", Page[Surcharge], **params, limit=limit, offset=offset
        )

    @operation("providers_list")
    def list_providers(
        self, *, limit: int | None = None, offset: int | None = None
    ) -> Call[Page[Provider]]:
        return get_call("providers/", Page[Provider], limit=limit, offset=offset)

    @operation("auth_token_create")
    def create_token(
        self,
        *,
        username: str,
        password: str,
        name: str | None = None,
        expires_at: datetime | None = None,
    ) -> Call[Token]:
        body: dict[str, Any] = {"username": username, "password": password}
        body |= {"name": name, "expires_at": expires_at}
        return Call(
            "POST", "auth/token/", Token, body=json_body(body), idempotent=False
        )
