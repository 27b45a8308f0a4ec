"""With Redis down, the API keeps answering: its throttles fail open (a warning in
the log, never a 500) and a request takes well under 2 s; /healthz answers 503 and
names what is down; the login lockout, kept in the database, still holds."""

import time

import pytest
from django.test import Client, override_settings

import config.views
from core import heartbeat
from tests.apiclient import client_for
from tests.exchange.conftest import make_buyer, make_instrument

pytestmark = pytest.mark.django_db

DEAD_REDIS = {
    "default": {
        "BACKEND": "config.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
    }
}


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


@override_settings(CACHES=DEAD_REDIS)
def test_api_answers_without_redis(caplog):
    instrument = make_instrument()
    buyer = make_buyer()
    public, seconds = timed(lambda: client_for().get("/api/v1/instruments/"))
    assert public.status_code == 200
    assert seconds < 2
    assert instrument.symbol in public.content.decode()
    private, seconds = timed(lambda: client_for(buyer).get("/api/v1/account/"))
    assert private.status_code == 200
    assert seconds < 2
    assert "API throttle api not applied, cache down" in caplog.text


@override_settings(CACHES=DEAD_REDIS)
def test_healthz_says_the_cache_is_down():
    response, seconds = timed(lambda: Client().get("/healthz"))
    assert response.status_code == 503
    assert response.json()["down"] == ["cache"]
    assert response.json()["status"] == "down"
    assert seconds < 2


def test_healthz_says_the_database_is_down(monkeypatch):
    from django.db import OperationalError

    class NoDatabase:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(config.views, "connection", NoDatabase())
    heartbeat.beat()
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["database"]


def test_healthz_is_200_with_a_fresh_heartbeat_and_503_when_stale():
    from django.core.cache import cache

    cache.delete(heartbeat.HEARTBEAT_KEY)
    stale = Client().get("/healthz")
    assert (stale.status_code, stale.json()["status"]) == (503, "stale")
    assert stale.json()["down"] == []
    heartbeat.beat()
    fresh = Client().get("/healthz")
    assert (fresh.status_code, fresh.json()["status"]) == (200, "ok")


@override_settings(CACHES=DEAD_REDIS)
def test_login_lockout_holds_without_redis():
    buyer = make_buyer()
    client = Client()
    for _ in range(10):
        client.post(
            "/accounts/login/", {"username": buyer.user.username, "password": "x"}
        )
    response = client.post(
        "/accounts/login/", {"username": buyer.user.username, "password": "pw-test-123"}
    )
    assert response.status_code == 429
