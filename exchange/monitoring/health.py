"""Figures of the machinery, read when asked (a Prometheus scrape, the operators'
page): how many messages wait in each Celery queue, how far settlement lags, how many
trades wait for an operator or for the candle fold."""

import logging
from datetime import datetime
from pathlib import Path

import redis
from celery import current_app
from django.conf import settings
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from exchange.models import CandleWatermark, Trade
from settlement import interface as settlement

REDIS_SCHEMES = ("redis://", "rediss://")
log = logging.getLogger(__name__)


def queue_names() -> list[str]:
    """The default queue and any the Celery configuration names."""
    conf = current_app.conf
    names = {conf.task_default_queue}
    names |= {q.name for q in conf.task_queues or ()}
    routes = conf.task_routes if isinstance(conf.task_routes, dict) else {}
    names |= {
        r["queue"] for r in routes.values() if isinstance(r, dict) and "queue" in r
    }
    return sorted(names)


def queue_depths() -> dict[str, int] | None:
    """Messages waiting per queue: Redis list lengths (every priority step) when
    the broker is Redis, the message files of kombu's filesystem transport, else 0.
    None when the broker cannot be reached."""
    url = settings.CELERY_BROKER_URL
    queues = queue_names()
    if url.startswith(REDIS_SCHEMES):
        return _redis_depths(url, queues)
    if url.startswith("filesystem://"):
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in")
        return _file_depths(Path(folder) if folder else None, queues)
    return dict.fromkeys(queues, 0)


def _redis_depths(url: str, queues: list[str]) -> dict[str, int] | None:
    # kombu keeps a queue's priorities in lists named "<queue>\x06\x16<step>".
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    steps = options.get("priority_steps", [0, 3, 6, 9])
    sep = options.get("sep", "\x06\x16")
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        return {
            queue: sum(
                client.llen(f"{queue}{sep}{step}" if step else queue) for step in steps
            )
            for queue in queues
        }
    except redis.RedisError as exc:
        log.warning("queue depth: the broker did not answer: %s", exc)
        return None
    finally:
        client.close()


def _file_depths(folder: Path | None, queues: list[str]) -> dict[str, int]:
    """kombu names each message file "<time>_<uuid>.<queue>.msg"."""
    depths = dict.fromkeys(queues, 0)
    if folder is None or not folder.is_dir():
        return depths
    for entry in folder.iterdir():
        queue = entry.name.rsplit(".", 2)[-2] if entry.name.endswith(".msg") else ""
        if queue in depths:
            depths[queue] += 1
    return depths


def settlement_lag_seconds(now: datetime | None = None) -> float:
    """Age of the oldest trade that should have settled and has not (settlement's
    figure: see `settlement.selectors.settlement_lag_seconds`)."""
    return settlement.settlement_lag_seconds(now or timezone.now())


def disputes_open() -> int:
    """Trades whose buyer disputed the delivery: they wait for an operator."""
    return settlement.disputes_open()


def trades_unfolded() -> int:
    """Trades not folded into candles yet (reads fold them on the fly; a number that
    keeps growing means the fold and its sweep are not running)."""
    folded = CandleWatermark.objects.filter(instrument_id=OuterRef("instrument_id"))
    return (
        Trade.objects.annotate(
            folded=Coalesce(Subquery(folded.values("sequence")[:1]), 0)
        )
        .filter(sequence__gt=F("folded"))
        .count()
    )
