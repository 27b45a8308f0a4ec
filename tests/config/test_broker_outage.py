"""With the Celery broker down, placing an order still answers at once: the task
published after commit gives up within about a second and the failure is logged,
not raised; the sweeper does the work later (config/celery.py)."""

import logging
import time

import pytest
from kombu.exceptions import OperationalError as BrokerError

from config.celery import app as celery_app
from exchange.marketdata.tasks import candles_sweep
from exchange.models import Candle
from exchange.monitoring import observe
from tests.apiclient import client_for
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place

pytestmark = pytest.mark.django_db

DEAD_BROKER = "redis://127.0.0.1:6390/0"  # nothing listens on this port


def forget_broker_connections() -> None:
    """Drop the connection and producer pools bound to the broker the app had (as
    Celery itself does after a fork): the next publish connects anew."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def dead_broker(monkeypatch):
    """The app publishes for real (not eagerly) to a broker that is not there. The
    environment's CELERY_BROKER_URL outranks the app's configuration in Celery, so
    both change."""
    conf = celery_app.conf
    saved = {"broker_url": conf.broker_url, "task_always_eager": conf.task_always_eager}
    monkeypatch.setenv("CELERY_BROKER_URL", DEAD_BROKER)
    conf.update(broker_url=DEAD_BROKER, task_always_eager=False)
    forget_broker_connections()
    yield
    monkeypatch.undo()
    conf.update(saved)
    forget_broker_connections()


def test_the_broker_waits_are_bounded():
    options = celery_app.conf.broker_transport_options
    assert options["socket_connect_timeout"] <= 1
    assert options["socket_timeout"] <= 5
    assert celery_app.conf.task_publish_retry_policy["max_retries"] <= 1


def test_an_order_is_placed_in_under_2s_with_the_broker_down(
    dead_broker, caplog, django_capture_on_commit_callbacks, monkeypatch
):
    instrument = make_instrument()
    place(make_seller(), instrument, "sell", "10.0", "10.00")
    client = client_for(make_buyer())
    body = {"instrument": instrument.symbol, "side": "buy", "price": "12.00"}
    # A fold asked for this instrument id a moment ago (an earlier test's, on
    # SQLite) would skip the publish this test is about.
    monkeypatch.setattr(observe, "_fold_asked", {})

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True) as published:
        response = client.post("/api/v1/orders/", body | {"quantity": "5.0"}, "json")
    seconds = time.monotonic() - started

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "filled"
    assert seconds < 2
    assert published  # after commit: the candle fold's publish
    failures = [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR
        and r.exc_info
        and isinstance(r.exc_info[1], BrokerError)
    ]
    assert failures, caplog.text
    assert "on_commit" in failures[0].getMessage()
    assert not Candle.objects.filter(instrument=instrument).exists()

    candles_sweep()  # what beat runs every 5 s: the work the publish left
    assert Candle.objects.filter(instrument=instrument).exists()
