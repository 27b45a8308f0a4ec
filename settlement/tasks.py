"""Settlement's Celery tasks: settle one trade, settle a batch, and the sweeper that
re-enqueues whatever is due and still unsettled (it, not redelivery, guarantees
progress). Each task loads by id and calls one service; all are idempotent."""

import logging
import time

from celery import shared_task
from django.conf import settings
from django.db import OperationalError, transaction
from django.utils import timezone

from settlement import notify, reliability, services
from settlement.selectors import due_obligations

log = logging.getLogger(__name__)
RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


@shared_task(acks_late=True, reject_on_worker_lost=True, **RETRY)
def trade_settle(trade_id: int) -> bool:
    with transaction.atomic(durable=True):
        return services.trade_settle(trade_id=trade_id, now=timezone.now())


@shared_task(acks_late=True, reject_on_worker_lost=True, **RETRY)
def trades_settle_batch(instrument: str) -> int:
    """Settle every due trade of an instrument, one transaction each, so a worker
    killed half-way leaves only whole settlements behind."""
    pause_ms = settings.SETTLEMENT_BATCH_PAUSE_MS
    done = 0
    ids = (
        due_obligations(timezone.now())
        .filter(instrument=instrument)
        .order_by("trade_id")
        .values_list("trade_id", flat=True)
    )
    for trade_id in ids:
        with transaction.atomic(durable=True):
            done += services.trade_settle(trade_id=trade_id, now=timezone.now())
        if pause_ms:
            time.sleep(pause_ms / 1000)
    return done


@shared_task(acks_late=True, reject_on_worker_lost=True)
def settlement_sweep() -> list[str]:
    """Enqueue a batch for every instrument with due, unsettled trades."""
    instruments = sorted(
        set(due_obligations(timezone.now()).values_list("instrument", flat=True))
    )
    for symbol in instruments:
        trades_settle_batch.delay(symbol)
    if instruments:
        log.info("settlement sweep enqueued %s", instruments)
    return instruments


@shared_task(acks_late=True, reject_on_worker_lost=True, **RETRY)
def reliability_refresh_all() -> int:
    """Refresh every provider's reliability score, one legal entity per transaction:
    trades age out of the 90-day window, and an operator may have affiliated
    participants since their last settlement."""
    done: set[int] = set()
    for participant_id in reliability.providers_to_refresh():
        if participant_id not in done:
            with transaction.atomic(durable=True):
                done.update(
                    reliability.reliability_refresh(
                        participant_id=participant_id, now=timezone.now()
                    )
                )
    return len(done)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def reports_due_notify() -> int:
    """Remind providers of delivery reports due (once per trade)."""
    return notify.reports_due_notify(now=timezone.now())
