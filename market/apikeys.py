"""API keys: create (the key is returned once, stored as its SHA-256), rotate (a
named credential replaced), revoke, and resolve a presented key to its row.

A participant holds at most EXCHANGE_API_MAX_LIVE_KEYS live keys (neither revoked
nor expired): the API's throttle counts all of a participant's keys together, and
the cap keeps a leaked password from minting keys without end. Creating and
rotating lock the owner's user row, so two requests cannot both take the last place.

Services run in the caller's transaction; `apikey_resolve` is the read the
authentication class does on every request.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from market.exceptions import MarketError
from market.models import ApiKey
from market.persistence import apikey_with_owner

KEY_BYTES = 32
PREFIX_LENGTH = 8
# last_used_at is written at most this often per key: not a write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    key: str  # the secret itself: shown once, never stored


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class TooManyKeys(MarketError):
    """The participant already holds the most live API keys allowed."""

    code = "too_many_keys"

    def __init__(self, cap: int) -> None:
        super().__init__(
            f"You already have {cap} live API keys, the most allowed: revoke one "
            "you no longer use, or ask for a key under the name of one to replace "
            "it."
        )
        self.cap = cap


def apikey_create(
    *, user: AbstractBaseUser, name: str, expires_at: datetime | None = None
) -> CreatedKey:
    """A new key for `user`. Returns the row and the key, which only the caller
    ever sees. Locks the user's row; raises TooManyKeys at the cap."""
    name, now = _checked(name, expires_at)
    _owner_for_update(user)
    return _create(user=user, name=name, expires_at=expires_at, now=now)


def apikey_rotate(
    *, user: AbstractBaseUser, name: str, expires_at: datetime | None = None
) -> CreatedKey:
    """The user's key called `name`, replaced: its live keys of that name are
    revoked and a new one is made, in the caller's transaction (a failure leaves the
    old key working). A bot that logs in at every start so holds one key, not one per
    start: the replaced key does not count against the cap. Locks the user's row."""
    name, now = _checked(name, expires_at)
    _owner_for_update(user)
    live_keys(user=user, now=now).filter(name=name).update(revoked_at=now)
    return _create(user=user, name=name, expires_at=expires_at, now=now)


def apikey_create_revoked(*, user: AbstractBaseUser, name: str) -> ApiKey:
    """A key row born revoked (one INSERT, never live, so outside the cap): the
    write of the benchmark endpoint, which must not mint usable keys."""
    key = _new_key()
    return ApiKey.objects.create(
        user=user,
        name=name,
        prefix=key[:PREFIX_LENGTH],
        digest=key_digest(key),
        revoked_at=timezone.now(),
    )


def live_keys(*, user: AbstractBaseUser, now: datetime) -> QuerySet[ApiKey]:
    """The user's keys that still authenticate: neither revoked nor expired."""
    return ApiKey.objects.filter(user=user, revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


def _checked(name: str, expires_at: datetime | None) -> tuple[str, datetime]:
    name = name.strip()
    if not name or len(name) > 100:
        raise MarketError(
            "A key needs a name of 1 to 100 characters.",
            fields={"name": ["1 to 100 characters."]},
        )
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise MarketError(
            "expires_at must be in the future.",
            fields={"expires_at": ["Must be in the future."]},
        )
    return name, now


def _owner_for_update(user: AbstractBaseUser) -> None:
    """Serializes the key writes of one user: the count and the insert of the
    cap check, and a rotation's revoke and insert."""
    get_user_model().objects.select_for_update().only("pk").get(pk=user.pk)


def _create(
    *, user: AbstractBaseUser, name: str, expires_at: datetime | None, now: datetime
) -> CreatedKey:
    """Caller holds the user's row lock (`_owner_for_update`)."""
    cap = settings.EXCHANGE_API_MAX_LIVE_KEYS
    if live_keys(user=user, now=now).count() >= cap:
        raise TooManyKeys(cap)
    key = _new_key()
    api_key = ApiKey.objects.create(
        user=user,
        name=name,
        prefix=key[:PREFIX_LENGTH],
        digest=key_digest(key),
        expires_at=expires_at,
    )
    return CreatedKey(api_key=api_key, key=key)


def _new_key() -> str:
    key = secrets.token_urlsafe(KEY_BYTES)
    while key.startswith("-"):  # a command line would read it as an option
        key = secrets.token_urlsafe(KEY_BYTES)
    return key


def apikey_revoke(*, user: AbstractBaseUser, key_id: int) -> ApiKey:
    """Revoke one of the user's keys (idempotent: a revoked key stays revoked)."""
    api_key = ApiKey.objects.filter(pk=key_id, user=user).first()
    if api_key is None:
        raise MarketError(f"No API key {key_id}.", fields={"key": ["Unknown key."]})
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
            revoked_at=api_key.revoked_at
        )
    return api_key


def apikey_resolve(key: str) -> ApiKey | None:
    """The usable key row for a presented key (with its user and participant), or
    None for an unknown, revoked or expired key, or an inactive user."""
    api_key = apikey_with_owner(key_digest(key))
    now = timezone.now()
    if api_key is None or not api_key.is_usable(now) or not api_key.user.is_active:
        return None
    last = api_key.last_used_at
    if last is None or now - last >= LAST_USED_RESOLUTION:
        # A conditional update: concurrent requests write it once.
        ApiKey.objects.filter(pk=api_key.pk).exclude(
            last_used_at__gt=now - LAST_USED_RESOLUTION
        ).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
