"""API keys: the only authentication, stored as SHA-256, revocable; the token
endpoint; throttles per key and per IP, with Retry-After."""

import hashlib
import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from market.apikeys import apikey_revoke
from market.models import ApiKey
from tests.apiclient import api_key, client_for, error
from tests.exchange.conftest import make_buyer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_budgets():
    """Throttles count per user id, which SQLite hands out again after a rolled
    back test: each test starts with no request counted."""
    cache.clear()


def test_trading_without_key_is_401_with_www_authenticate():
    response = APIClient().get("/api/v1/orders/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert error(response)["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "header",
    ["Token nope", "Token a b", "token " + "x" * 200, "Token \u00e9t\u00e9"],
)
def test_bad_key_is_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/account/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert error(response)["code"] == "not_authenticated"


def test_bad_key_on_public_market_data_is_401_too():
    response = client_for(key="not-a-key").get("/api/v1/instruments/")
    assert response.status_code == 401


def test_public_market_data_needs_no_key():
    assert APIClient().get("/api/v1/instruments/").status_code == 200


def test_key_is_stored_only_as_its_sha256():
    buyer = make_buyer()
    key = api_key(buyer.user)
    row = ApiKey.objects.get(user=buyer.user)
    assert row.digest == hashlib.sha256(key.encode()).hexdigest()
    assert row.prefix == key[:8]
    assert len(key) >= 43  # 32 random bytes, URL-safe base64
    stored = [str(v) for v in ApiKey.objects.values_list().get()]
    assert key not in stored


def test_valid_key_reads_the_account_and_marks_last_use():
    buyer = make_buyer()
    response = client_for(buyer).get("/api/v1/account/")
    assert response.status_code == 200
    assert ApiKey.objects.get(user=buyer.user).last_used_at is not None


def test_revoked_key_is_401():
    buyer = make_buyer()
    key = api_key(buyer.user)
    client = client_for(key=key)
    assert client.get("/api/v1/account/").status_code == 200
    apikey_revoke(user=buyer.user, key_id=ApiKey.objects.get(user=buyer.user).pk)
    response = client.get("/api/v1/account/")
    assert response.status_code == 401
    assert "revoked" in error(response)["message"]


def test_expired_key_is_401():
    buyer = make_buyer()
    key = api_key(buyer.user, expires_at=timezone.now() + timedelta(hours=1))
    ApiKey.objects.filter(user=buyer.user).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert client_for(key=key).get("/api/v1/account/").status_code == 401


def test_inactive_user_key_is_401():
    buyer = make_buyer()
    key = api_key(buyer.user)
    buyer.user.is_active = False
    buyer.user.save()
    assert client_for(key=key).get("/api/v1/account/").status_code == 401


def test_user_who_is_not_a_participant_gets_403():
    user = UserFactory()
    response = client_for(key=api_key(user)).get("/api/v1/orders/")
    assert response.status_code == 403
    assert error(response)["code"] == "permission_denied"


def test_token_endpoint_trades_password_for_a_key():
    buyer = make_buyer()
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": buyer.user.username, "password": "pw-test-123", "name": "bot"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "bot"
    assert body["prefix"] == body["key"][:8]
    assert client_for(key=body["key"]).get("/api/v1/account/").status_code == 200


def test_token_endpoint_refuses_wrong_password_without_saying_which():
    buyer = make_buyer()
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": buyer.user.username, "password": "wrong"},
        format="json",
    )
    assert response.status_code == 400
    assert "username and password" in error(response)["message"]
    assert not ApiKey.objects.exists()


def test_api_throttles_per_user_whatever_key_with_retry_after():
    """A second key does not buy a second budget (keys are free to make); another
    participant's budget is its own."""
    buyer = make_buyer()
    first, second = client_for(buyer), client_for(buyer)  # two keys, one user
    stranger = client_for(make_buyer())
    with override_settings(EXCHANGE_API_THROTTLE_RATE="3/m"):
        codes = [first.get("/api/v1/account/").status_code for _ in range(4)]
        throttled = second.get("/api/v1/account/")
        other = stranger.get("/api/v1/account/")
    assert codes == [200, 200, 200, 429]
    assert throttled.status_code == 429  # the same user's other key
    assert other.status_code == 200
    assert error(throttled)["code"] == "throttled"
    assert 0 < int(throttled["Retry-After"]) <= 60


def test_batch_counts_as_one_request(instrument):
    buyer = make_buyer()
    client = client_for(buyer)
    orders = [
        {"instrument": instrument.symbol, "side": "buy", "price": "11.00"}
        | {"quantity": "1.0"}
        for _ in range(5)
    ]
    with override_settings(EXCHANGE_API_THROTTLE_RATE="2/m"):
        batch = client.post("/api/v1/orders/batch/", {"orders": orders}, format="json")
        after = client.get("/api/v1/account/")
    assert batch.status_code == 200
    assert [r["status"] for r in batch.json()["results"]] == [201] * 5
    assert after.status_code == 200


def test_anonymous_requests_throttle_per_ip_ignoring_forwarded_for():
    ip = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
    client = APIClient(REMOTE_ADDR=ip)
    with override_settings(EXCHANGE_API_THROTTLE_RATE="2/m"):
        codes = [
            client.get(
                "/api/v1/regions/", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}"
            ).status_code
            for n in range(3)
        ]
    assert codes == [200, 200, 429]


def test_token_endpoint_is_throttled_per_ip():
    ip = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.9"
    client = APIClient(REMOTE_ADDR=ip)
    body = {"username": "nobody", "password": "x"}
    with override_settings(EXCHANGE_API_LOGIN_THROTTLE_RATE="2/m"):
        codes = [
            client.post("/api/v1/auth/token/", body, format="json").status_code
            for _ in range(3)
        ]
    assert codes == [400, 400, 429]
