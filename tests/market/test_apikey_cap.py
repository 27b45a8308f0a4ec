"""The cap on live API keys: past it, creating a key is refused everywhere keys are
made (the token endpoint, the web page, the command) and nothing is written; a
token request that names its key rotates it instead, so a bot that logs in at every
start keeps one key; revoked and expired keys do not count."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from market.apikeys import TooManyKeys, apikey_create
from market.models import ApiKey
from tests.apiclient import api_key, client_for, error
from tests.exchange.conftest import make_buyer
from tests.threads import threads_together
from tests.web.conftest import html, logged_in, text

pytestmark = pytest.mark.django_db
PASSWORD = "pw-test-123"  # tests/factories.py
CAP = 3


@pytest.fixture(autouse=True)
def small_cap():
    cache.clear()  # the token endpoint's per-IP throttle starts afresh
    with override_settings(EXCHANGE_API_MAX_LIVE_KEYS=CAP):
        yield


def token(user, **body):
    return APIClient().post(
        "/api/v1/auth/token/",
        {"username": user.username, "password": PASSWORD, **body},
        format="json",
    )


def live(user) -> list[str]:
    return sorted(
        ApiKey.objects.filter(user=user, revoked_at__isnull=True).values_list(
            "name", flat=True
        )
    )


def test_a_key_past_the_cap_is_422_too_many_keys_and_nothing_is_written():
    user = make_buyer().user
    for n in range(CAP):
        assert token(user, name=f"bot-{n}").status_code == 201
    rows = list(ApiKey.objects.values_list("pk", "revoked_at"))

    response = token(user, name="one-more")

    assert response.status_code == 422
    assert error(response)["code"] == "too_many_keys"
    assert "revoke one" in error(response)["message"]
    assert list(ApiKey.objects.values_list("pk", "revoked_at")) == rows
    unnamed = token(user)  # a key without a name is a new key too
    assert error(unnamed)["code"] == "too_many_keys"


def test_the_cap_is_per_participant():
    user, other = make_buyer().user, make_buyer().user
    for n in range(CAP):
        api_key(user, name=f"k{n}")
    assert token(other, name="bot").status_code == 201


def test_a_named_request_rotates_that_key_even_at_the_cap():
    user = make_buyer().user
    first = token(user, name="bot").json()["key"]
    others = [api_key(user, name=f"other-{n}") for n in range(CAP - 1)]
    assert client_for(key=first).get("/api/v1/account/").status_code == 200

    response = token(user, name="bot")  # the bot restarted: at the cap, still 201

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"key", "name", "prefix", "created_at", "expires_at"}
    assert body["name"] == "bot"
    old = client_for(key=first).get("/api/v1/account/")
    assert old.status_code == 401
    assert "revoked" in error(old)["message"]
    assert client_for(key=body["key"]).get("/api/v1/account/").status_code == 200
    for key in others:  # the keys of other names are left alone
        assert client_for(key=key).get("/api/v1/account/").status_code == 200
    assert live(user) == ["bot", "other-0", "other-1"]
    assert ApiKey.objects.filter(user=user, name="bot").count() == 2


def test_restarting_a_bot_many_times_keeps_one_key():
    user = make_buyer().user
    for _ in range(CAP * 3):
        assert token(user, name="bot-market-maker").status_code == 201
    assert live(user) == ["bot-market-maker"]


def test_rotation_leaves_another_participants_key_of_that_name():
    user, other = make_buyer().user, make_buyer().user
    theirs = token(other, name="bot").json()["key"]
    assert token(user, name="bot").status_code == 201
    assert client_for(key=theirs).get("/api/v1/account/").status_code == 200


def test_a_refused_rotation_keeps_the_old_key():
    user = make_buyer().user
    first = token(user, name="bot").json()["key"]
    past = (timezone.now() - timedelta(days=1)).isoformat()
    assert token(user, name="bot", expires_at=past).status_code in (400, 422)
    assert client_for(key=first).get("/api/v1/account/").status_code == 200


def test_revoked_and_expired_keys_do_not_count():
    user = make_buyer().user
    revoked = api_key(user, name="revoked")
    expiring = api_key(user, name="expiring", expires_at=timezone.now() + timedelta(1))
    for n in range(CAP - 2):
        api_key(user, name=f"live-{n}")
    ApiKey.objects.filter(name="revoked").update(revoked_at=timezone.now())
    ApiKey.objects.filter(name="expiring").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert client_for(key=revoked).get("/api/v1/account/").status_code == 401
    assert client_for(key=expiring).get("/api/v1/account/").status_code == 401

    assert token(user, name="a").status_code == 201
    assert token(user, name="b").status_code == 201
    assert error(token(user, name="c"))["code"] == "too_many_keys"


def test_the_openapi_schema_documents_too_many_keys():
    schema = (
        APIClient()
        .get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        .json()
    )
    operation = schema["paths"]["/api/v1/auth/token/"]["post"]
    assert "too_many_keys" in operation["responses"]["422"]["description"]
    assert "rotation" in operation["description"]


# --- the web page and the command --------------------------------------------------


def test_web_page_refuses_a_key_past_the_cap_with_a_form_error():
    buyer = make_buyer()
    client = logged_in(buyer)
    for n in range(CAP):
        html(client.post("/accounts/api-keys/", {"name": f"key {n}"}))

    body = html(client.post("/accounts/api-keys/", {"name": "one more"}))

    errors = text(body.split('class="form-errors"', 1)[1].split("</div>", 1)[0])
    assert f"You already have {CAP} live keys, the most allowed." in errors
    assert 'data-testid="new-key"' not in body
    assert 'value="one more"' in body  # what was typed is kept
    assert ApiKey.objects.filter(user=buyer.user).count() == CAP


def test_web_page_creates_again_once_a_key_is_revoked():
    buyer = make_buyer()
    client = logged_in(buyer)
    for n in range(CAP):
        client.post("/accounts/api-keys/", {"name": f"key {n}"})
    first = ApiKey.objects.filter(user=buyer.user).order_by("pk").first()
    client.post(f"/accounts/api-keys/{first.pk}/revoke/")
    body = html(client.post("/accounts/api-keys/", {"name": "replacement"}))
    assert 'data-testid="new-key"' in body


@override_settings(EXCHANGE_API_MAX_LIVE_KEYS=0)
def test_the_command_refuses_a_token_past_the_cap_and_creates_nothing():
    with pytest.raises(CommandError, match="live API keys, the most allowed"):
        call_command("create_participant", "capped", "--token", stdout=StringIO())
    assert not ApiKey.objects.exists()
    assert not get_user_model().objects.filter(username="capped").exists()


def test_the_service_refuses_too():
    user = make_buyer().user
    for n in range(CAP):
        apikey_create(user=user, name=f"k{n}")
    with pytest.raises(TooManyKeys, match="the most allowed"):
        apikey_create(user=user, name="more")
    assert ApiKey.objects.filter(user=user).count() == CAP


# --- races (PostgreSQL: row locks) --------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_cannot_both_take_the_last_place(catalogue):
    user = make_buyer().user
    for n in range(CAP - 1):
        api_key(user, name=f"k{n}")

    codes = threads_together(4, lambda i: token(user, name=f"new-{i}").status_code)

    assert sorted(codes) == [201, 422, 422, 422]
    assert len(live(user)) == CAP


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_rotations_leave_one_live_key_of_the_name(catalogue):
    user = make_buyer().user
    token(user, name="bot")

    codes = threads_together(4, lambda i: token(user, name="bot").status_code)

    assert codes == [201] * 4
    assert live(user) == ["bot"]


def test_the_benchmark_endpoint_writes_a_row_but_never_a_live_key():
    user = make_buyer().user
    client = client_for(key=api_key(user, name="bench-client"))
    with override_settings(EXCHANGE_API_BENCHMARK=True):
        codes = [client.post("/api/v1/_bench/").status_code for _ in range(CAP + 1)]
    assert codes == [201] * (CAP + 1)
    assert live(user) == ["bench-client"]
    assert ApiKey.objects.filter(user=user, name="bench").count() == CAP + 1
