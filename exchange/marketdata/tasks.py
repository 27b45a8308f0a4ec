"""Market data's jobs: fold trades into candles (after a commit that made trades, and
a sweep as the safety net) and publish the daily index."""

from celery import shared_task

from exchange.marketdata import fold, index


@shared_task(acks_late=True, reject_on_worker_lost=True)
def candles_fold(instrument_id: int) -> int:
    """Fold an instrument's new trades into its candles (enqueued on commit)."""
    return fold.candles_fold(instrument_id=instrument_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def candles_sweep() -> dict[str, int]:
    return fold.candles_sweep()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def index_publish() -> int:
    """Publish the index of the last finished Shanghai days (idempotent upsert)."""
    return index.index_publish_recent()
