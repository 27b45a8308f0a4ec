"""The API's error envelope, `{"error": {"code", "message", "fields"}}`, as exceptions:
one class per family of codes (the HTTP status the API gives them), each carrying
`code`, `message`, `fields` and `status`.

    try:
        client.place_order(...)
    except Refused as exc:          # 422: a business rule, e.g. insufficient_funds
        log(exc.code, exc.message)
    except InvalidRequest as exc:   # 400: exc.fields names what is wrong
        ...
"""

from typing import Any

import httpx


class YiwangError(Exception):
    """Anything this client raises about the API or the way to it."""


class ConnectionFailed(YiwangError):
    """No answer from the server (after the retries the call allows)."""


class ApiError(YiwangError):
    """An error answer. Its subclass names the family; `code` the precise case."""

    status: int
    code: str
    message: str
    fields: dict[str, Any]

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict[str, Any] | None = None,
        *,
        headers: httpx.Headers | None = None,
    ) -> None:
        self.status, self.code, self.message = status, code, message
        self.fields = fields or {}
        self.headers = headers or httpx.Headers()
        super().__init__(f"{status} {code}: {message}")


class InvalidRequest(ApiError):
    """400: validation_error, parse_error, invalid_character (see `fields`)."""


class NotAuthenticated(ApiError):
    """401: no key, or a key that is unknown, revoked or expired."""


class PermissionDenied(ApiError):
    """403: the key's participant may not do this (e.g. sell without the role)."""


class NotFound(ApiError):
    """404: no such order, instrument, trade or URL."""


class UnsupportedRequest(ApiError):
    """405, 406, 415: a method, an Accept or a content type the endpoint refuses."""


class Conflict(ApiError):
    """409, a state conflict: instrument_not_open, order_not_open,
    client_order_id_conflict (the id was used before with another body)."""


class Refused(ApiError):
    """422, a business rule that depends on the state: insufficient_funds,
    insufficient_capacity, no_conversion_factor, price_out_of_band,
    fok_not_fillable, post_only_would_cross, price_required, region_suspended."""


class Throttled(ApiError):
    """429, still throttled after the retries (`retry_after` in seconds)."""

    @property
    def retry_after(self) -> float | None:
        value = self.headers.get("Retry-After", "")
        return float(value) if value.isdigit() else None


class ServerError(ApiError):
    """5xx, still failing after the retries the call allows."""


FAMILIES: dict[int, type[ApiError]] = {
    400: InvalidRequest,
    401: NotAuthenticated,
    403: PermissionDenied,
    404: NotFound,
    405: UnsupportedRequest,
    406: UnsupportedRequest,
    409: Conflict,
    415: UnsupportedRequest,
    422: Refused,
    429: Throttled,
}


def error_from(response: httpx.Response) -> ApiError:
    """The exception for an error answer, from its envelope (a body that is not
    one, say from a proxy in the way, gives code `http_<status>`)."""
    status = response.status_code
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error.get("message", ""))
        fields = error.get("fields") or {}
    except (ValueError, KeyError, TypeError):
        code, message, fields = f"http_{status}", response.text[:200], {}
    family = FAMILIES.get(status) or (ServerError if status >= 500 else ApiError)
    return family(status, code, message, fields, headers=response.headers)
