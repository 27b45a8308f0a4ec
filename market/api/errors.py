"""One error envelope for the whole API: {"error": {"code", "message", "fields"}}.

DRF's exceptions, Django's 404 and permission errors, and every DomainError raised by a
service come out in the same shape, keeping WWW-Authenticate and Retry-After.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from market.exceptions import DomainError

# HTTP status of each domain error code; anything else a rule refuses is a 422.
DOMAIN_STATUS = {
    "validation_error": 400,
    "invalid_character": 400,
    "not_found": 404,
    "permission_denied": 403,
    "instrument_not_open": 409,
    "order_not_open": 409,
    "client_order_id_conflict": 409,
    "immutable_record": 409,
    "no_published_table": 404,
    "delivery_not_allowed": 409,
    "internal_error": 500,
}

DRF_CODES = [
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.AuthenticationFailed, "not_authenticated"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "throttled"),
    (exceptions.ParseError, "parse_error"),
    (exceptions.ValidationError, "validation_error"),
]


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{k}: {_flatten(v)}" for k, v in detail.items())
    if isinstance(detail, list):
        return " ".join(_flatten(v) for v in detail)
    return str(detail)


def _fields(detail) -> dict:
    if isinstance(detail, dict):
        return {
            key: (
                [str(v) for v in value] if isinstance(value, list) else _fields(value)
            )
            if isinstance(value, list | dict)
            else [str(value)]
            for key, value in detail.items()
        }
    return {}


# The database did not answer (restarting, failing over, a lock or statement timeout):
# the client may retry, and a retried order keeps its client_order_id, so it is placed
# at most once.
UNAVAILABLE_RETRY_SECONDS = 2


def exception_handler(exc, context):
    if isinstance(exc, OperationalError | InterfaceError):
        response = Response(
            error_body(
                "service_unavailable",
                "The database did not answer. Retry shortly; an order sent again "
                "with its client_order_id is placed at most once.",
            ),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)
        return response
    if isinstance(exc, DomainError):
        return Response(
            error_body(exc.code, exc.message, exc.fields),
            status=DOMAIN_STATUS.get(exc.code, status.HTTP_422_UNPROCESSABLE_ENTITY),
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):  # a model's full_clean()
        exc = exceptions.ValidationError(
            exc.message_dict
            if hasattr(exc, "error_dict")
            else {"non_field_errors": exc.messages}
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a server error: handler500 answers in the envelope
    code = next((c for cls, c in DRF_CODES if isinstance(exc, cls)), "error")
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    if isinstance(exc, exceptions.ValidationError):
        message = _flatten(detail) or "Invalid input."
        custom = _custom_code(detail)
        response.data = error_body(custom or code, message, _fields(detail))
    else:
        response.data = error_body(code, _flatten(detail))
    return response


def error_status_body(exc: Exception) -> tuple[int, dict] | None:
    """The status and envelope the API answers `exc` with (None: a server error).
    For a batch, whose items each get their own status and error."""
    response = exception_handler(exc, {})
    return None if response is None else (response.status_code, response.data)


def _custom_code(detail) -> str | None:
    """A field error raised with a code of the contract (e.g. invalid_character)."""
    for item in detail.values() if isinstance(detail, dict) else detail or []:
        items = item if isinstance(item, list) else [item]
        for error in items:
            if getattr(error, "code", None) in ("invalid_character",):
                return error.code
    return None


def api_not_found(request, exception=None):
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def api_server_error(request):
    return JsonResponse(
        error_body("server_error", "The server could not answer; nothing was written."),
        status=500,
    )
