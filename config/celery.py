"""The Celery app: broker from settings, tasks discovered in the apps, beat schedule.

Tasks are idempotent and acknowledged late: a worker lost mid-task has its message
redelivered (after the visibility timeout on Redis). The sweepers in the schedule are
what guarantee progress; redelivery only makes it sooner.
"""

import os

from celery import Celery

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
    },
)
app.autodiscover_tasks()
