"""Deliveries, disputes and settlements as notifications (market/notifications/
sends them), and the reminders of delivery report deadlines.

Why an outbox row written with the change, where fills use a watermark on the event
log: these changes are stamped with a time the caller passes, not with a sequence
number that commits in order, so a reader from a time watermark could miss a change
that commits after a later one. Settlement's services are not the trading path, so
the one more read (the parties' settings) and a row per party that wants it cost
little there, and the row commits or rolls back with the change itself.

Report deadlines are a matter of time, not of a change: beat's job finds the trades
whose window has ended and whose report is still missing, and reminds their
providers once each (the event id is per trade).
"""

from datetime import datetime

from django.db import transaction

from market.models import Notification, NotificationSettings
from market.notifications import services as notifications
from settlement.models import Obligation

T = Notification.Type
# Who hears of each change: the buyer must confirm or dispute a report; both
# parties hear of a dispute, its resolution and the settlement.
AUDIENCE = {
    T.REPORTED.value: ("buyer",),
    T.DISPUTED.value: ("buyer", "seller"),
    T.RESOLVED.value: ("buyer", "seller"),
    T.SETTLED.value: ("buyer", "seller"),
    T.REPORT_DUE.value: ("seller",),
}


def obligation_changed(
    obligation: Obligation, change: str, *, at: datetime, ref: int | None = None
) -> None:
    """Record the change for the parties who want it, in the caller's transaction
    (which holds the obligation's lock). `ref` tells apart repeated changes of one
    trade (a delivery report's id); else the trade's id."""
    notifications.events_record(_events(obligation, str(change), at, ref))


def _events(
    obligation: Obligation, change: str, at: datetime, ref: int | None = None
) -> list[notifications.Event]:
    return [
        notifications.Event(
            participant_id=getattr(obligation, f"{role}_id"),
            type=change,
            ref=ref if ref is not None else obligation.trade_id,
            data=_data(obligation, role, change, at),
            occurred_at=at,
        )
        for role in AUDIENCE[change]
    ]


def _data(obligation: Obligation, role: str, change: str, at: datetime) -> dict:
    deadline = {
        T.REPORT_DUE.value: obligation.report_deadline,
        T.REPORTED.value: obligation.confirm_deadline,
    }.get(change)
    delivered = obligation.delivered_quantity
    return {
        "trade_id": obligation.trade_id,
        "instrument": obligation.instrument,
        "role": role,
        "status": obligation.status,
        "quantity": str(obligation.quantity),
        "delivered_quantity": None if delivered is None else str(delivered),
        "price": str(obligation.price),
        "surcharge": str(obligation.surcharge),
        "delivery_start": obligation.delivery_start.isoformat(),
        "delivery_end": obligation.delivery_end.isoformat(),
        "deadline": None if deadline is None else deadline.isoformat(),
        "at": at.isoformat(),
    }


def reports_due_notify(*, now: datetime) -> int:
    """Entry point: remind each provider who wants it of every trade whose delivery
    window has ended and whose report is still missing, before its deadline (once
    per trade). Returns how many trades it looked at."""
    wanting = NotificationSettings.objects.filter(
        email_enabled=True
    ) | NotificationSettings.objects.filter(webhook_enabled=True)
    due = Obligation.objects.filter(
        status=Obligation.Status.PENDING,
        delivery_end__lte=now,
        report_deadline__gt=now,
        seller_id__in=wanting.values("participant_id"),
    ).order_by("trade_id")
    events = [
        event
        for obligation in due
        for event in _events(obligation, T.REPORT_DUE.value, obligation.delivery_end)
    ]
    with transaction.atomic(durable=True):
        notifications.events_record(events)  # those already recorded are skipped
    return len(events)
