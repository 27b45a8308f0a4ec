"""Resolving a presented API key (every API request): the plain SELECT gives what the
ORM's select_related gave, for every state a key and its user can be in."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from market.apikeys import apikey_create, apikey_resolve, key_digest
from market.models import ApiKey
from tests.factories import ParticipantFactory

pytestmark = pytest.mark.django_db


def _reference(key: str) -> ApiKey | None:
    """The ORM's answer, as apikey_resolve read it before."""
    return (
        ApiKey.objects.select_related("user", "user__participant__home_region")
        .filter(digest=key_digest(key))
        .first()
    )


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def _same(resolved: ApiKey, key: str) -> None:
    expected = _reference(key)
    assert _fields(resolved) == _fields(expected) | {
        "last_used_at": resolved.last_used_at  # resolving writes it
    }
    assert _fields(resolved.user) == _fields(expected.user)
    participant = getattr(expected.user, "participant", None)
    if participant is None:
        assert not hasattr(resolved.user, "participant")
        return
    assert _fields(resolved.user.participant) == _fields(participant)
    assert _fields(resolved.user.participant.home_region) == _fields(
        participant.home_region
    )


def test_a_participants_key_comes_with_its_user_participant_and_region(
    django_assert_num_queries,
):
    participant = ParticipantFactory(is_buyer=True)
    key = apikey_create(user=participant.user, name="bot").key
    resolved = apikey_resolve(key)
    with django_assert_num_queries(0):  # all related, as select_related did
        region = resolved.user.participant.home_region
        assert resolved.user.participant.user is resolved.user
    assert region == participant.home_region
    _same(resolved, key)


def test_a_user_who_is_not_a_participant_resolves_without_one(
    django_assert_num_queries,
):
    user = get_user_model().objects.create_user("operator", password="x" * 12)
    key = apikey_create(user=user, name="ops").key
    resolved = apikey_resolve(key)
    with django_assert_num_queries(0):
        assert getattr(resolved.user, "participant", None) is None
    _same(resolved, key)


def test_unknown_revoked_expired_and_inactive_keys_resolve_to_none():
    participant = ParticipantFactory(is_seller=True)
    user = participant.user
    assert apikey_resolve("not-a-key") is None
    revoked = apikey_create(user=user, name="revoked")
    ApiKey.objects.filter(pk=revoked.api_key.pk).update(revoked_at=timezone.now())
    assert apikey_resolve(revoked.key) is None
    expired = apikey_create(
        user=user, name="expiring", expires_at=timezone.now() + timedelta(hours=1)
    )
    assert apikey_resolve(expired.key) is not None
    ApiKey.objects.filter(pk=expired.api_key.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert apikey_resolve(expired.key) is None
    usable = apikey_create(user=user, name="usable").key
    _same(apikey_resolve(usable), usable)
    user.is_active = False
    user.save()
    assert apikey_resolve(usable) is None


def test_last_used_is_written_at_most_once_a_minute():
    participant = ParticipantFactory(is_buyer=True)
    created = apikey_create(user=participant.user, name="bot")
    first = apikey_resolve(created.key).last_used_at
    assert first is not None
    assert apikey_resolve(created.key).last_used_at == first
    stored = ApiKey.objects.get(pk=created.api_key.pk).last_used_at
    assert stored == first
