"""Login lockout (django-axes): after AXES_FAILURE_LIMIT failed logins for one
username, or from one client IP, within AXES_COOLOFF_TIME, every further attempt is
refused until that time has passed since the last counted failure, whatever the
password. The rule is the same for names that exist and names that do not, so a
refusal says nothing about which logins exist; a successful login clears its
username's failures.

Axes counts every `authenticate()` that is given the request: the web login, the
admin login and `POST /api/v1/auth/token/`. Its records live in the database, so
the lockout holds (fails closed) when the cache is down. Here: the login forms'
message, the 429 the middleware makes of a refused form, the client IP as the API's
throttles see it, and the check the token endpoint uses.
"""

from datetime import timedelta

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from rest_framework.throttling import BaseThrottle

LOCKED_OUT_MESSAGE = _(
    "Too many failed log-in attempts for this username or from this address. "
    "Try again in %(minutes)d minutes."
)


def cooloff() -> timedelta:
    return settings.AXES_COOLOFF_TIME


def is_locked_out(request) -> bool:
    """Whether axes refused (or has just locked) the login this request tried."""
    return bool(getattr(request, "axes_locked_out", False))


def login_succeeded(request, username: str) -> None:
    """Clear the failures of a password login that does not go through Django's
    `login()` (the token endpoint), as AXES_RESET_ON_SUCCESS does for the others."""
    handler = AxesProxyHandler.get_implementation()
    handler.reset_user_attempts(request, get_credentials(username))


def locked_out_error() -> ValidationError:
    minutes = max(1, round(cooloff().total_seconds() / 60))
    return ValidationError(
        LOCKED_OUT_MESSAGE, code="locked_out", params={"minutes": minutes}
    )


class LockoutAwareMixin:
    """A login form that says "locked out" instead of "wrong password" once axes
    has refused the attempt (a right password is refused too while locked)."""

    def get_invalid_login_error(self):
        if is_locked_out(self.request):  # type: ignore[attr-defined]
            return locked_out_error()
        return super().get_invalid_login_error()  # type: ignore[misc]


class LoginForm(LockoutAwareMixin, AuthenticationForm):
    pass


class AdminLoginForm(LockoutAwareMixin, AdminAuthenticationForm):
    pass


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the login page as the form rendered it (with the
    lockout message), answered as 429 with Retry-After."""
    response = original_response
    if response is None:  # axes' async path gives no response; we run under WSGI
        response = HttpResponse(str(locked_out_error().messages[0]))
    response.status_code = 429
    response["Retry-After"] = str(int(cooloff().total_seconds()))
    return response


def client_ip(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the address DRF's throttles use, so both trust the
    same number of proxies (API_NUM_PROXIES) and a client cannot pick its own."""
    return BaseThrottle().get_ident(request)
