"""Authentication and permissions of the API: `Authorization: Token <key>`.

`ApiKeyAuthentication` is the API's only authentication class. No header (or another
scheme) is anonymous, which public market data accepts; a `Token` header with an
unknown, revoked or expired key is a 401 everywhere, with `WWW-Authenticate: Token`.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from market.apikeys import apikey_resolve

KEYWORD = "Token"
MAX_KEY_LENGTH = 128


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = KEYWORD

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2 or len(header[1]) > MAX_KEY_LENGTH:
            raise exceptions.AuthenticationFailed(
                "Send the key as `Authorization: Token <key>`."
            )
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid API key.") from exc
        api_key = apikey_resolve(key)
        if api_key is None:
            raise exceptions.AuthenticationFailed(
                "Invalid API key: unknown, revoked or expired."
            )
        return (api_key.user, api_key)

    def authenticate_header(self, request):
        return self.keyword


def participant_of(request):
    """The authenticated user's participant, or None."""
    user = request.user
    return None if user is None else getattr(user, "participant", None)


class IsParticipant(permissions.BasePermission):
    """An API key whose user is a market participant (401 without a key, 403 for a
    user who is not a participant)."""

    message = "This key's user is not a market participant."

    def has_permission(self, request, view):
        if request.user is None:
            return False
        return participant_of(request) is not None


class IsSellerToWrite(IsParticipant):
    """Participants read; only sellers write (clusters)."""

    message = "Only sellers (providers) can do this."

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return participant_of(request).is_seller


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "market.api.auth.ApiKeyAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "An API key, sent as `Authorization: Token <key>`.",
        }
