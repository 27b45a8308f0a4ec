"""Prometheus metrics at `/metrics`, in prometheus-client's multiprocess mode.

gunicorn runs several workers and Celery its own processes, each with its own memory,
so counters and histograms are kept in files under PROMETHEUS_MULTIPROC_DIR (one per
process, memory-mapped; set by config.settings before any metric exists), and a scrape
sums every process's files. The gauges are not kept anywhere: a collector reads them
at scrape time (Celery queue depth from the broker, settlement lag from the
database), so each scrape sees the current value whichever worker answers it.

Only a scraper may read them (they show order flow and queue depths): a request with
`Authorization: Bearer <METRICS_TOKEN>`, or one from METRICS_ALLOWED_IPS (addresses
or networks; loopback by default). Anyone else gets a 403.
"""

import ipaddress
import os
import secrets

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from rest_framework.settings import api_settings

from exchange.monitoring import health
from market.lockout import client_ip

ORDERS_PLACED = Counter(
    "yiwang_orders_placed",
    "Orders placed, by side and outcome: the order's status after placement, "
    "'replayed' for a repeated client_order_id, or the refusal's error code.",
    ["side", "outcome"],
)
FILLS = Counter("yiwang_fills", "Trades made by order placements and amends.")
PLACEMENT_SECONDS = Histogram(
    "yiwang_order_placement_seconds",
    "Time to place an order through the service, refusals included.",
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
OWN_METRICS = (ORDERS_PLACED, FILLS, PLACEMENT_SECONDS)


class LiveGauges:
    """Gauges computed at scrape time (multiprocess mode keeps no gauge state here)."""

    def collect(self):
        depth = GaugeMetricFamily(
            "yiwang_celery_queue_depth",
            "Messages waiting in each Celery queue.",
            labels=["queue"],
        )
        depths = health.queue_depths()
        for queue, count in (depths or {}).items():
            depth.add_metric([queue], count)
        yield depth
        yield GaugeMetricFamily(
            "yiwang_celery_broker_up",
            "1 when the broker answered the queue depth query.",
            value=0 if depths is None else 1,
        )
        yield GaugeMetricFamily(
            "yiwang_settlement_lag_seconds",
            "Age of the oldest trade past its delivery window and grace (or "
            "confirmed and past its window) that has not settled; 0 when none.",
            value=health.settlement_lag_seconds(),
        )


def registry_build() -> CollectorRegistry:
    """Every process's counters and histograms, and the live gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:  # a process on its own: its in-memory values are all there is
        for metric in OWN_METRICS:
            registry.register(metric)
    registry.register(LiveGauges())
    return registry


def scraper_allowed(request) -> bool:
    """The request carries the metrics token, or comes from an allowed address:
    the one the API's throttles trust (API_NUM_PROXIES). With no proxy trusted, a
    forwarded request is not taken for local: a proxy on this host would otherwise
    make every visitor look like loopback."""
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and secrets.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    if not api_settings.NUM_PROXIES and (
        "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    ):
        return False
    try:
        address = ipaddress.ip_address(client_ip(request) or "")
    except ValueError:
        return False
    address = getattr(address, "ipv4_mapped", None) or address  # ::ffff:127.0.0.1
    return any(
        address in ipaddress.ip_network(allowed, strict=False)
        for allowed in settings.METRICS_ALLOWED_IPS
    )


@never_cache
@require_safe
def metrics_view(request):
    """The Prometheus exposition format, for a scraper."""
    if not scraper_allowed(request):
        return HttpResponseForbidden(
            "Metrics are for the configured scraper only.", content_type="text/plain"
        )
    return HttpResponse(
        generate_latest(registry_build()), content_type=CONTENT_TYPE_LATEST
    )
