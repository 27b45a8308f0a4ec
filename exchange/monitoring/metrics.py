"""Prometheus metrics at `/metrics`, in prometheus-client's multiprocess mode.

gunicorn runs several workers and Celery its own processes, each with its own memory,
so counters and histograms are kept in files under PROMETHEUS_MULTIPROC_DIR (one per
process, memory-mapped; set by config.settings before any metric exists), and a scrape
sums every process's files. The gauges are not kept anywhere: a collector reads them
at scrape time (Celery queue depth from the broker, settlement lag from the
database), so each scrape sees the current value whichever worker answers it.
"""

import os

from django.http import HttpResponse
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

from exchange.monitoring import health

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


@never_cache
@require_safe
def metrics_view(request):
    """The Prometheus exposition format, for a scraper."""
    return HttpResponse(
        generate_latest(registry_build()), content_type=CONTENT_TYPE_LATEST
    )
