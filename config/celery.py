"""The Celery app: broker from settings, tasks discovered in the apps, beat schedule.

Tasks are idempotent and acknowledged late: a worker lost mid-task has its message
redelivered (after the visibility timeout on Redis). The sweepers in the schedule are
what guarantee progress; redelivery only makes it sooner.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("yiwang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    timezone="Asia/Shanghai",
    beat_schedule={
        "heartbeat": {"task": "market.tasks.heartbeat", "schedule": 5.0},
        "list-instruments": {
            "task": "exchange.tasks.instruments_list",
            "schedule": 300,
        },
        "expire-orders": {"task": "exchange.tasks.orders_expire", "schedule": 5.0},
        "close-gates": {"task": "exchange.tasks.instruments_close", "schedule": 10.0},
        "settlement-sweep": {
            "task": "settlement.tasks.settlement_sweep",
            "schedule": 60.0,
        },
        "mark-settled": {"task": "exchange.tasks.instruments_settle", "schedule": 60.0},
        # Candles are folded after each commit that made trades; this is the net.
        "candles-sweep": {"task": "exchange.tasks.candles_sweep", "schedule": 5.0},
        # Yesterday's index just after midnight; hourly, so a missed run catches up.
        "index-publish": {
            "task": "exchange.tasks.index_publish",
            "schedule": crontab(minute=5),
        },
        "reconcile-nightly": {
            "task": "exchange.tasks.reconcile",
            "schedule": crontab(hour=3, minute=30),
        },
    },
)
app.autodiscover_tasks()
