"""Notifications' jobs in the exchange: collect an instrument's fills (enqueued
after a commit that made trades of a participant who wants them: `fills_committed`)
and beat's sweep of every instrument. Imported by `exchange.tasks`, so the worker
registers them."""

from functools import partial

from celery import shared_task
from django.db import transaction

from exchange.models import Trade
from exchange.notifications import fills


@shared_task(acks_late=True, reject_on_worker_lost=True)
def fills_collect(instrument_id: int) -> int:
    return fills.fills_collect(instrument_id=instrument_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def fills_sweep() -> dict[str, int]:
    return fills.fills_sweep()


def fills_committed(trades: list[Trade]) -> None:
    """Inside or after a command's transaction: once it has committed, collect its
    trades at once if one of their parties wants notifications."""
    if not trades:
        return
    parties = {t.buyer_id for t in trades} | {t.seller_id for t in trades}
    wake = partial(_collect_if_wanted, trades[0].instrument_id, frozenset(parties))
    transaction.on_commit(wake, robust=True)


def _collect_if_wanted(instrument_id: int, parties: frozenset[int]) -> None:
    if parties & fills.subscriber_ids():
        fills_collect.delay(instrument_id)
