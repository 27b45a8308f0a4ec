"""API keys over the API: `POST /api/v1/auth/token/` trades a username and password
for a new key (201, shown once), throttled per client IP at a strict rate and
under the logins' lockout (market/lockout.py: 429 once locked). A request that names
its key rotates it (market/apikeys.py), so a bot logging in at every start holds
one key, not one per start. Also the hidden benchmark endpoint
(tests/bench/bench_api.py), off unless a setting enables it.
"""

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, Throttled, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from market import lockout
from market.api.auth import IsParticipant
from market.api.fields import BoundedDateTimeField, StrictCharField
from market.api.schema import errors
from market.api.throttles import RejectNul, TokenCreateRateThrottle
from market.apikeys import apikey_create, apikey_create_revoked, apikey_rotate


class TokenInput(serializers.Serializer):
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=4096, trim_whitespace=False)
    name = StrictCharField(
        max_length=100,
        required=False,
        help_text="The key's name. Given, it names a credential: a live key of yours "
        "with this name is revoked and replaced by the new one. Left out, a new key "
        "named `api` is added.",
    )
    expires_at = BoundedDateTimeField(required=False, allow_null=True)


class TokenOutput(serializers.Serializer):
    key = serializers.CharField(help_text="Shown once: store it now.")
    name = serializers.CharField()
    prefix = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)


class TokenCreateApi(APIView):
    authentication_classes = []
    throttle_classes = [RejectNul, TokenCreateRateThrottle]

    @extend_schema(
        request=TokenInput,
        responses={201: TokenOutput, **errors(400, 415, 422, 429)},
        auth=[],
        description=(
            "A new API key for a username and password (400 if they do not match). "
            "With a `name`, this is a named credential's rotation: the live key you "
            "already hold under that name (if any) is revoked in the same "
            "transaction and the new key replaces it, so a bot that logs in at "
            "every start holds one key. A participant holds at most "
            "EXCHANGE_API_MAX_LIVE_KEYS (default 20) live keys, neither revoked "
            "nor expired: past it the answer is 422 `too_many_keys` and nothing "
            "is written (a rotation replaces a key, so it does not count)."
        ),
    )
    def post(self, request):
        """A new API key for a username and password; a named one rotates."""
        body = TokenInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = authenticate(
            request, username=data["username"], password=data["password"]
        )
        if user is None and lockout.is_locked_out(request):
            raise Throttled(wait=lockout.cooloff().total_seconds())
        if user is None:
            raise ValidationError(
                {"password": ["Unable to log in with the given username and password."]}
            )
        lockout.login_succeeded(request, data["username"])
        # A given name is a credential's name: its live key is replaced.
        make = apikey_rotate if "name" in data else apikey_create
        with transaction.atomic(durable=True):
            created = make(
                user=user,
                name=data.get("name", "api"),
                expires_at=data.get("expires_at"),
            )
        key = created.api_key
        out = {"key": created.key, "name": key.name, "prefix": key.prefix}
        out |= {"created_at": key.created_at, "expires_at": key.expires_at}
        return Response(TokenOutput(out).data, status=status.HTTP_201_CREATED)


class BenchmarkApi(APIView):
    """Benchmark only: creates one row through the same authentication, throttles,
    renderer and middleware as the trading endpoints. 404 unless
    EXCHANGE_API_BENCHMARK is on."""

    permission_classes = [IsParticipant]

    @extend_schema(exclude=True)
    def post(self, request):
        if not settings.EXCHANGE_API_BENCHMARK:
            raise NotFound()
        with transaction.atomic(durable=True):
            row = apikey_create_revoked(user=request.user, name="bench")
        return Response({"id": row.pk}, status=status.HTTP_201_CREATED)
