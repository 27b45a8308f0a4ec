"""Concurrent requests over REST on PostgreSQL: two identical orders with one
client_order_id sent at once make one order, answered once 201 and once 200."""

import threading

import pytest
from django.db import close_old_connections

from exchange.models import Order
from tests.apiclient import api_key, client_for
from tests.exchange.conftest import make_buyer, make_instrument

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_duplicates_make_one_order(catalogue):
    instrument = make_instrument()
    buyer = make_buyer()
    key = api_key(buyer.user)
    body = {"instrument": instrument.symbol, "side": "buy", "price": "12.00"}
    body |= {"quantity": "5.0", "client_order_id": "dup-1"}
    barrier, statuses = threading.Barrier(4), []

    def send():
        try:
            barrier.wait()
            response = client_for(key=key).post("/api/v1/orders/", body, "json")
            statuses.append((response.status_code, response.json()["id"]))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(code for code, _id in statuses) == [200, 200, 200, 201]
    assert len({order_id for _code, order_id in statuses}) == 1
    assert Order.objects.count() == 1
