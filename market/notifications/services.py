"""Writes of notifications: a participant's settings and signing secret, and
`events_record`, the outbox write that every source of events calls.

Each runs in the caller's transaction. Deliveries are enqueued once it commits
(`transaction.on_commit`), never from inside it: a slow or absent broker never holds
a trading or settlement transaction, and the retry sweep sends whatever an enqueue
missed, so nothing depends on the hook having run.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from market.exceptions import MarketError
from market.models import (
    Notification,
    NotificationCategory,
    NotificationDelivery,
    NotificationSettings,
    Participant,
)
from market.notifications import tasks
from market.notifications.addresses import webhook_target

SECRET_BYTES = 32
SECRET_PREFIX = "whsec_"  # noqa: S105  # a marker, not a secret
T = Notification.Type
CATEGORY_OF = {  # by value: a choice's hash is its name's, not its value's
    T.FILL.value: NotificationCategory.FILLS.value,
    T.REPORT_DUE.value: NotificationCategory.DEADLINES.value,
    T.REPORTED.value: NotificationCategory.DEADLINES.value,
    T.DISPUTED.value: NotificationCategory.DISPUTES.value,
    T.RESOLVED.value: NotificationCategory.DISPUTES.value,
    T.SETTLED.value: NotificationCategory.SETTLEMENTS.value,
}


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to one participant. `ref` makes it unique within its
    type (a trade's id, a delivery report's id)."""

    participant_id: int
    type: str
    ref: int | str
    data: dict
    occurred_at: datetime

    @property
    def event_id(self) -> str:
        return f"evt_{self.type!s}_{self.ref}_{self.participant_id}"


def settings_of(participant: Participant) -> NotificationSettings:
    """The participant's settings (unsaved defaults when it has none yet)."""
    found = NotificationSettings.objects.filter(participant=participant).first()
    return found or NotificationSettings(
        participant=participant,
        email=participant.user.email,
        categories=list(NotificationCategory.values),
    )


def settings_update(
    *,
    participant: Participant,
    email_enabled: bool,
    email: str,
    webhook_enabled: bool,
    webhook_url: str,
    categories: list[str],
    language: str,
) -> tuple[NotificationSettings, str | None]:
    """Save the participant's choices. A webhook URL is checked now (and again at
    each send). Turning the webhook on without a secret makes one: returned once,
    with the settings (else None)."""
    if webhook_enabled and not webhook_url:
        raise MarketError(
            "A webhook needs a URL.", fields={"webhook_url": ["Required."]}
        )
    if webhook_url:
        webhook_target(webhook_url)
    if email_enabled and not email:
        raise MarketError("E-mail needs an address.", fields={"email": ["Required."]})
    found = settings_of(participant)
    was_on = bool(found.pk and found.channels())
    found.email_enabled, found.email = email_enabled, email
    found.webhook_enabled, found.webhook_url = webhook_enabled, webhook_url
    found.categories = [c for c in NotificationCategory.values if c in categories]
    found.language = language
    secret = None
    if webhook_enabled and not found.webhook_secret:
        secret = _new_secret(found)
    if found.channels() and not was_on:
        found.active_since = timezone.now()
    found.full_clean()
    found.save()
    return found, secret


def secret_rotate(*, participant: Participant) -> str:
    """A new signing secret, replacing the old at once; returned only here."""
    found = settings_of(participant)
    secret = _new_secret(found)
    found.save()
    return secret


def _new_secret(found: NotificationSettings) -> str:
    secret = SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    found.webhook_secret = secret
    found.secret_prefix = secret[: len(SECRET_PREFIX) + 4]
    return secret


def subscribers(
    participant_ids=None, *, category: str | None = None
) -> dict[int, NotificationSettings]:
    """The settings of the participants (of these, or all) who have a channel on
    (and want `category`)."""
    rows = NotificationSettings.objects.filter(
        Q(email_enabled=True) | Q(webhook_enabled=True)
    )
    if participant_ids is not None:
        rows = rows.filter(participant_id__in=set(participant_ids))
    return {
        s.participant_id: s
        for s in rows
        if s.channels() and (category is None or category in s.categories)
    }


def events_record(events: list[Event]) -> list[int]:
    """Record the events their participants want (category, channel, and not from
    before they turned notifications on) and their deliveries, once each: an event
    recorded again writes nothing. Returns the new deliveries' ids, which are
    enqueued after the caller's transaction commits."""
    if not events:
        return []
    wanted = subscribers(e.participant_id for e in events)
    fresh = [
        e
        for e in events
        if (s := wanted.get(e.participant_id))
        and CATEGORY_OF[str(e.type)] in s.categories
        and (s.active_since is None or e.occurred_at >= s.active_since)
    ]
    known = set(
        Notification.objects.filter(
            event_id__in=[e.event_id for e in fresh]
        ).values_list("event_id", flat=True)
    )
    fresh = [e for e in fresh if e.event_id not in known]
    if not fresh:
        return []
    Notification.objects.bulk_create(
        [_notification(e) for e in fresh], ignore_conflicts=True
    )
    ids = dict(
        Notification.objects.filter(
            event_id__in=[e.event_id for e in fresh]
        ).values_list("event_id", "pk")
    )
    now = timezone.now()
    NotificationDelivery.objects.bulk_create(
        [
            NotificationDelivery(
                notification_id=ids[e.event_id], channel=channel, next_attempt_at=now
            )
            for e in fresh
            for channel in wanted[e.participant_id].channels()
        ],
        ignore_conflicts=True,  # a concurrent recorder made it: sent once anyway
    )
    delivery_ids = list(
        NotificationDelivery.objects.filter(
            notification_id__in=ids.values(), attempts=0
        )
        .order_by("pk")  # sent in the order they happened
        .values_list("pk", flat=True)
    )
    transaction.on_commit(partial(tasks.deliveries_enqueue, delivery_ids), robust=True)
    return delivery_ids


def _notification(event: Event) -> Notification:
    return Notification(
        event_id=event.event_id,
        participant_id=event.participant_id,
        category=CATEGORY_OF[str(event.type)],
        type=str(event.type),
        payload=event.data,
        occurred_at=event.occurred_at,
    )
