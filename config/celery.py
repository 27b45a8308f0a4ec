"""The Celery app: broker from settings, tasks discovered in the apps, beat schedule.

Tasks are idempotent and acknowledged late: a worker lost mid-task has its message
redelivered (after the visibility timeout on Redis). The sweepers in the schedule are
what guarantee progress; redelivery only makes it sooner.

So a publish may fail: with the broker down it gives up within about a second (one
reconnect, bounded socket waits) instead of holding a web request, and the callers,
which publish after commit with `on_commit(..., robust=True)`, log the failure and
leave the work to the sweepers.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Redis's defaults wait for ever to connect or for an answer (kombu's redis transport
# ignores broker_connection_timeout); the settings' own options win.
BROKER_SOCKET_TIMEOUTS = {"socket_connect_timeout": 1.0, "socket_timeout": 3.0}

app = Celery("yiwang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    broker_connection_timeout=1.0,
    # One reconnect (a pooled connection gone stale after a broker restart), then
    # give up: the default's 3 retries and backoff held a request for seconds.
    task_publish_retry_policy={
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.2,
    },
    timezone="Asia/Shanghai",
    beat_schedule={
        "heartbeat": {"task": "market.tasks.heartbeat", "schedule": 5.0},
        # Often enough for short windows (EXCHANGE_LISTING_WINDOW_MINUTES): each run
        # is one existence check per profile and window when nothing is due.
        "list-instruments": {
            "task": "exchange.tasks.instruments_list",
            "schedule": 30.0,
        },
        "expire-orders": {"task": "exchange.tasks.orders_expire", "schedule": 5.0},
        "close-gates": {"task": "exchange.tasks.instruments_close", "schedule": 10.0},
        # Seconds, not minutes: a short window's cycle settles soon after it ends,
        # and a sweep that finds nothing due is one indexed query.
        "settlement-sweep": {
            "task": "settlement.tasks.settlement_sweep",
            "schedule": 10.0,
        },
        "mark-settled": {"task": "exchange.tasks.instruments_settle", "schedule": 10.0},
        # Candles are folded after each commit that made trades; this is the net.
        "candles-sweep": {
            "task": "exchange.marketdata.tasks.candles_sweep",
            "schedule": 5.0,
        },
        # Yesterday's index just after midnight; hourly, so a missed run catches up.
        "index-publish": {
            "task": "exchange.marketdata.tasks.index_publish",
            "schedule": crontab(minute=5),
        },
        # Trades age out of the score's 90-day window; settling refreshes the rest.
        "reliability-refresh": {
            "task": "settlement.tasks.reliability_refresh_all",
            "schedule": crontab(minute=20),
        },
        # Notifications: fills beyond each instrument's watermark, report deadlines,
        # and deliveries whose enqueued attempt never ran (market/notifications/).
        "notifications-fills": {
            "task": "exchange.notifications.tasks.fills_sweep",
            "schedule": 10.0,
        },
        "notifications-report-deadlines": {
            "task": "settlement.tasks.reports_due_notify",
            "schedule": 60.0,
        },
        "notifications-deliveries": {
            "task": "market.notifications.tasks.deliveries_sweep",
            "schedule": 30.0,
        },
        # Pending four-eyes proposals past their 24 hours (market/proposals.py).
        "proposals-expire": {
            "task": "market.tasks.proposals_expire_due",
            "schedule": 60.0,
        },
        "reconcile-nightly": {
            "task": "exchange.tasks.reconcile",
            "schedule": crontab(hour=3, minute=30),
        },
    },
)
app.autodiscover_tasks()


@app.on_after_configure.connect
def _bounded_broker_waits(sender, source, **kwargs) -> None:
    """Once the settings are read (never at import): the socket timeouts under the
    settings' transport options, which the filesystem transport ignores."""
    source.broker_transport_options = (
        BROKER_SOCKET_TIMEOUTS | source.broker_transport_options
    )
