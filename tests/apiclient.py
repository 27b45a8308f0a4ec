"""API test helpers: a DRF client that sends a participant's API key."""

from django.db import transaction
from rest_framework.test import APIClient

from market.apikeys import apikey_create


def api_key(user, **kwargs) -> str:
    with transaction.atomic():
        return apikey_create(user=user, name=kwargs.pop("name", "test"), **kwargs).key


def client_for(participant=None, *, key: str | None = None) -> APIClient:
    """A client with `participant`'s new key (or `key`), anonymous with neither."""
    client = APIClient()
    if participant is not None:
        key = api_key(participant.user)
    if key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def error(response) -> dict:
    return response.json()["error"]
