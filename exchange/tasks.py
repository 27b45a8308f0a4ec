"""The exchange's scheduled jobs (Celery beat): list instruments ahead, expire GTD
orders, close gates, mark settled instruments, reconcile nightly; market data's jobs
are `exchange.marketdata.tasks` and notifications' `exchange.notifications.tasks`
(imported here, so the worker registers them). Each calls one entry point; all are
idempotent, so a late or repeated run is harmless."""

import logging

from celery import shared_task
from django.conf import settings

from exchange.marketdata import tasks as marketdata_tasks  # noqa: F401
from exchange.notifications import tasks as notification_tasks  # noqa: F401
from exchange.reconcile import reconcile as reconcile_checks
from exchange.services import instruments as lifecycle

log = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def instruments_list() -> list[str]:
    created = lifecycle.instruments_list(days=settings.EXCHANGE_LIST_DAYS_AHEAD)
    return [i.symbol for i in created]


@shared_task(acks_late=True, reject_on_worker_lost=True)
def orders_expire() -> int:
    return lifecycle.orders_expire_run()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def instruments_close() -> list[str]:
    return lifecycle.instruments_close_run()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def instruments_settle() -> list[str]:
    """Mark closed instruments whose trades are all settled, and pay the network."""
    return lifecycle.instruments_mark_settled_run()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def reconcile() -> int:
    failed = [(name, f) for name, f in reconcile_checks() if f]
    for name, failures in failed:
        log.error("reconcile: %s failed: %s", name, failures[:10])
    return len(failed)
