"""/metrics in Prometheus' text format: placement counters by side and outcome,
fills and placement latency (counted at the service boundary, summed over processes
from the multiprocess files), and gauges read at scrape time: Celery queue depth
(filesystem or Redis broker) and settlement lag."""

import os
from datetime import timedelta
from decimal import Decimal

import pytest
import redis
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from exchange.monitoring import health
from exchange.services.placement import order_place
from exchange.services.requests import OrderRequest
from settlement.exceptions import InsufficientFunds
from settlement.models import Obligation
from tests.exchange.conftest import make_buyer, make_instrument, make_seller

pytestmark = pytest.mark.django_db


def scrape() -> dict:
    response = Client().get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def order(instrument, side, quantity, price, cluster=None) -> OrderRequest:
    return OrderRequest(
        instrument=instrument.symbol,
        side=side,
        quantity=Decimal(quantity),
        price=Decimal(price),
        cluster=cluster,
    )


def test_metrics_count_orders_placed_over_rest_one_by_one_and_in_batches():
    from tests.apiclient import client_for

    instrument = make_instrument()
    seller, buyer = make_seller(), make_buyer()
    body = {"instrument": instrument.symbol, "quantity": "1.0"}
    sell = body | {"side": "sell", "price": "12.00", "cluster": seller.cluster.pk}
    before = scrape()
    client_for(seller).post("/api/v1/orders/", sell | {"quantity": "3.0"}, "json")
    batch = [
        body | {"side": "buy", "price": "13.00"},  # fills
        body | {"side": "buy", "price": "99.00"},  # out of band
        body | {"side": "buy", "price": "98.00"},  # out of band: counted twice
    ]
    client_for(buyer).post("/api/v1/orders/batch/", {"orders": batch}, "json")
    after = scrape()

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("yiwang_orders_placed_total", side="sell", outcome="open") == 1
    assert moved("yiwang_orders_placed_total", side="buy", outcome="filled") == 1
    assert (
        moved("yiwang_orders_placed_total", side="buy", outcome="price_out_of_band")
        == 2
    )
    assert moved("yiwang_fills_total") == 1


def test_metrics_count_placements_fills_and_latency():
    """After a resting sell, a crossing buy and a refused buy, the counters have
    moved by exactly that, whichever processes wrote before."""
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"]  # set by config.settings
    instrument = make_instrument()
    seller, buyer = make_seller(), make_buyer()
    poor = make_buyer(money=0)
    before = scrape()
    order_place(
        participant=seller,
        request=order(instrument, "sell", "5.0", "12.00", seller.cluster.pk),
    )
    order_place(participant=buyer, request=order(instrument, "buy", "2.0", "13.00"))
    with pytest.raises(InsufficientFunds):
        order_place(participant=poor, request=order(instrument, "buy", "2.0", "13.00"))
    after = scrape()

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("yiwang_orders_placed_total", side="sell", outcome="open") == 1
    assert moved("yiwang_orders_placed_total", side="buy", outcome="filled") == 1
    assert (
        moved("yiwang_orders_placed_total", side="buy", outcome="insufficient_funds")
        == 1
    )
    assert moved("yiwang_fills_total") == 1
    assert moved("yiwang_order_placement_seconds_count") == 3
    assert moved("yiwang_order_placement_seconds_sum") > 0
    assert ("yiwang_settlement_lag_seconds", ()) in after
    assert value(after, "yiwang_celery_broker_up") == 1


def test_queue_depth_counts_the_filesystem_transports_files(tmp_path):
    for name in ("1_a.celery.msg", "2_b.celery.msg", "3_c.other.msg", "notes.txt"):
        (tmp_path / name).write_text("{}")
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    with override_settings(
        CELERY_BROKER_URL="filesystem://", CELERY_BROKER_TRANSPORT_OPTIONS=options
    ):
        assert health.queue_depths() == {"celery": 2}
        assert value(scrape(), "yiwang_celery_queue_depth", queue="celery") == 2
    with override_settings(CELERY_BROKER_URL="memory://"):
        assert health.queue_depths() == {"celery": 0}


@pytest.mark.redis
def test_queue_depth_is_the_redis_list_length_over_priorities():
    url = "redis://127.0.0.1:6379/14"
    client = redis.Redis.from_url(url)
    client.delete("celery", "celery\x06\x163")
    client.rpush("celery", "m1", "m2")
    client.rpush("celery\x06\x163", "m3")
    try:
        with override_settings(
            CELERY_BROKER_URL=url, CELERY_BROKER_TRANSPORT_OPTIONS={}
        ):
            assert health.queue_depths() == {"celery": 3}
        with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
            assert health.queue_depths() is None
            assert value(scrape(), "yiwang_celery_broker_up") == 0
    finally:
        client.delete("celery", "celery\x06\x163")


def test_settlement_lag_is_the_age_of_the_oldest_overdue_trade():
    instrument = make_instrument()
    seller, buyer = make_seller(), make_buyer()
    order_place(
        participant=seller,
        request=order(instrument, "sell", "4.0", "12.00", seller.cluster.pk),
    )
    for _ in range(2):
        order_place(participant=buyer, request=order(instrument, "buy", "2.0", "13.00"))
    now = timezone.now()
    assert health.settlement_lag_seconds(now) == 0.0
    first, second = Obligation.objects.order_by("trade_id")
    Obligation.objects.filter(pk=first.pk).update(
        confirm_deadline=now - timedelta(minutes=10)
    )
    Obligation.objects.filter(pk=second.pk).update(
        status=Obligation.Status.DISPUTED, confirm_deadline=now - timedelta(hours=5)
    )
    assert health.settlement_lag_seconds(now) == 600.0
