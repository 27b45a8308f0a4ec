"""Fills as notifications, read from the event log beyond a per-instrument
watermark (a `NotificationCursor` on the instrument's sequence number).

Why a watermark and not an outbox row written with the trade: the trades of an
instrument commit in sequence order (each under the instrument's lock), so those
at or below the instrument's committed sequence number are all there, and reading
from the watermark up to it loses none; the placement transaction, whose cost is
measured (docs/performance.md), gains no write. Recording is idempotent (one event
id per trade and participant), so a collection may run any number of times, late
or at once: two of one instrument queue on the cursor's lock and the second finds
nothing left. Nothing depends on the on-commit enqueue: beat's sweep collects
whatever it missed.
"""

import time

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from exchange.models import Instrument, Trade
from exchange.selectors import fill_view
from market.models import (
    Notification,
    NotificationCategory,
    NotificationCursor,
    NotificationSettings,
)
from market.notifications import services as notifications

STREAM = "fills"
BATCH = 2000
_subscribers: tuple[float, frozenset[int]] = (float("-inf"), frozenset())


def fills_collect(*, instrument_id: int) -> int:
    """Entry point: record the instrument's fills beyond its watermark as
    notifications, `BATCH` trades per durable transaction. Returns how many
    trades it read."""
    total = 0
    while True:
        with transaction.atomic(durable=True):
            read, more = fills_collect_batch(instrument_id=instrument_id)
        total += read
        if not more:
            return total


def fills_collect_batch(*, instrument_id: int, batch: int = BATCH) -> tuple[int, bool]:
    """Under the cursor's lock (taken here; the caller provides the transaction):
    record the next trades, move the cursor past them. Returns (trades read,
    whether more may follow)."""
    cursor = cursor_for_update(instrument_id)
    head = Instrument.objects.values_list("sequence", flat=True).get(pk=instrument_id)
    if head <= cursor.position:
        return 0, False
    wanted = notifications.subscribers(category=NotificationCategory.FILLS)
    trades = list(
        Trade.objects.filter(
            Q(buyer_id__in=wanted) | Q(seller_id__in=wanted),
            instrument_id=instrument_id,
            sequence__gt=cursor.position,
            sequence__lte=head,
        )
        .select_related("instrument")
        .order_by("sequence")[:batch]
    )
    notifications.events_record(
        [
            notifications.Event(
                participant_id=who,
                type=Notification.Type.FILL,
                ref=trade.pk,
                data=fill_view(trade, who),
                occurred_at=trade.executed_at,
            )
            for trade in trades
            for who in (trade.buyer_id, trade.seller_id)
            if who in wanted
        ]
    )
    more = len(trades) == batch
    cursor.position = trades[-1].sequence if more else head
    cursor.save(update_fields=["position", "updated_at"])
    return len(trades), more


def cursor_for_update(instrument_id: int) -> NotificationCursor:
    """Lock the instrument's cursor, creating it at 0 the first time (a concurrent
    creator makes this insert wait, then do nothing)."""
    NotificationCursor.objects.bulk_create(
        [NotificationCursor(stream=STREAM, key=instrument_id)], ignore_conflicts=True
    )
    return NotificationCursor.objects.select_for_update().get(
        stream=STREAM, key=instrument_id
    )


def fills_sweep() -> dict[str, int]:
    """Entry point of beat's net: collect every instrument whose sequence number is
    beyond its cursor."""
    position = NotificationCursor.objects.filter(
        stream=STREAM, key=OuterRef("pk")
    ).values("position")[:1]
    behind = (
        Instrument.objects.annotate(read=Coalesce(Subquery(position), 0))
        .filter(sequence__gt=F("read"))
        .order_by("pk")
        .values_list("pk", "symbol")
    )
    return {symbol: fills_collect(instrument_id=pk) for pk, symbol in behind}


def subscriber_ids() -> frozenset[int]:
    """Who has a channel on, read at most every NOTIFICATIONS_SUBSCRIBERS_TTL_SECONDS
    per process: a commit whose parties want nothing costs a set lookup (one who
    just turned notifications on is collected by the sweep meanwhile)."""
    global _subscribers
    read_at, ids = _subscribers
    now = time.monotonic()
    if now - read_at >= settings.NOTIFICATIONS_SUBSCRIBERS_TTL_SECONDS:
        ids = frozenset(
            NotificationSettings.objects.filter(
                Q(email_enabled=True) | Q(webhook_enabled=True)
            ).values_list("participant_id", flat=True)
        )
        _subscribers = (now, ids)
    return ids
