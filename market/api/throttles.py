"""Request throttles, counted in Django's cache (Redis when REDIS_URL is set, so every
process of a deployment shares the counts).

Requests with an API key count per key (by its digest, never the key itself);
anonymous requests count per client IP. Rates come from settings at request time:
`EXCHANGE_API_THROTTLE_RATE` (default 50/s) for the API, and the stricter
`EXCHANGE_API_LOGIN_THROTTLE_RATE` per IP for creating keys with a password. A batch is
one request, so it counts once.

Without the cache (Redis down) the throttles fail open: the request goes on, with a
warning in the log, rather than every API call failing with a 500. Password logins
stay guarded while it is down: their lockout is kept in the database
(market/lockout.py).
"""

import logging

from django.conf import settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from core.heartbeat import CACHE_ERRORS
from core.nul import NUL_FOUND
from market.exceptions import InvalidCharacter
from market.models import ApiKey

logger = logging.getLogger(__name__)


class RejectNul(BaseThrottle):
    """Not a rate: the 400 `invalid_character` of a request the NUL middleware
    marked (config/middleware.py). Throttles are DRF's first check after
    authentication and permissions, so 401 and 403 come before it; every API view
    lists it first."""

    def allow_request(self, request, view):
        if request.META.get(NUL_FOUND):
            raise InvalidCharacter
        return True


class FailOpenRateThrottle(SimpleRateThrottle):
    """A rate counted in the cache, allowed through while the cache is down."""

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            logger.warning(
                "API throttle %s not applied, cache down: %s", self.scope, exc
            )
            self.history = []  # wait() must not read what this request never got
            return True


class ApiKeyRateThrottle(FailOpenRateThrottle):
    scope = "api"

    def get_rate(self):
        return settings.EXCHANGE_API_THROTTLE_RATE

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiKey):
            # Per user, not per key: keys are free to make, a budget is not.
            ident = f"user:{request.auth.user_id}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return f"yiwang:throttle:{self.scope}:{ident}"


class TokenCreateRateThrottle(FailOpenRateThrottle):
    """Password logins that mint keys: per client IP, whatever key is sent."""

    scope = "token"

    def get_rate(self):
        return settings.EXCHANGE_API_LOGIN_THROTTLE_RATE

    def get_cache_key(self, request, view):
        return f"yiwang:throttle:{self.scope}:ip:{self.get_ident(request)}"
