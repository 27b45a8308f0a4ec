"""One attempt of one delivery: claim it, send it outside any transaction, log it.

An attempt is claimed by a conditional update on the delivery's attempt count, so
two workers holding the same attempt (its retry message and the sweep's) never both
send it. The claim also moves `next_attempt_at` past the send's timeout: a worker
lost mid-send leaves the delivery to the sweep once that lease has passed. A failed
attempt is retried after `NOTIFICATIONS_RETRY_BASE_SECONDS x 2^(n-1)` (capped), up
to `NOTIFICATIONS_MAX_ATTEMPTS`; then the delivery has failed for good.
"""

import json
import time
from dataclasses import dataclass
from datetime import timedelta

import httpx
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation

from market.models import (
    DeliveryAttempt,
    Notification,
    NotificationDelivery,
    NotificationSettings,
)
from market.notifications import mail
from market.notifications.addresses import UnsafeWebhookUrl, webhook_target
from market.notifications.signing import signed_headers

Status = NotificationDelivery.Status
MAX_BACKOFF_SECONDS = 3600
USER_AGENT = "Yiwang-Webhooks/1"


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    target: str = ""
    status_code: int | None = None
    error: str = ""
    final: bool = False  # no point in trying again (the channel was turned off)


def backoff_seconds(attempt: int) -> int:
    """The wait after failed attempt number `attempt` (1, 2, ...)."""
    base = settings.NOTIFICATIONS_RETRY_BASE_SECONDS
    return min(base * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS)


def webhook_body(notification: Notification) -> bytes:
    """The JSON a receiver gets: the same bytes on every attempt."""
    body = {
        "id": notification.event_id,
        "type": notification.type,
        "created_at": notification.occurred_at.isoformat(),
        "data": notification.payload,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def delivery_attempt(*, delivery_id: int, attempt: int) -> int | None:
    """Entry point: make the attempt after `attempt` earlier ones, if it is still
    to be made, and log it. Returns the seconds to wait before the next attempt
    when this one failed and another is allowed, else None."""
    now = timezone.now()
    lease = timedelta(seconds=settings.NOTIFICATIONS_WEBHOOK_TIMEOUT_SECONDS * 4 + 60)
    claimed = NotificationDelivery.objects.filter(
        pk=delivery_id, status=Status.PENDING, attempts=attempt
    ).update(attempts=attempt + 1, next_attempt_at=now + lease)
    if not claimed:
        return None  # sent, failed for good, or another worker has this attempt
    delivery = NotificationDelivery.objects.select_related("notification").get(
        pk=delivery_id
    )
    choices = NotificationSettings.objects.filter(
        participant_id=delivery.notification.participant_id
    ).first()
    started = time.monotonic()
    outcome = _send(delivery, choices)
    duration_ms = int((time.monotonic() - started) * 1000)
    return _log(delivery, attempt + 1, outcome, now, duration_ms)


def _log(
    delivery, number: int, outcome: Outcome, started_at, duration_ms
) -> int | None:
    now = timezone.now()
    wait = None
    if outcome.ok:
        status, next_at = Status.DELIVERED, None
    elif outcome.final or number >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        status, next_at = Status.FAILED, None
    else:
        wait = backoff_seconds(number)
        status, next_at = Status.PENDING, now + timedelta(seconds=wait)
    with transaction.atomic(durable=True):
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=number,
            target=outcome.target[:500],
            started_at=started_at,
            duration_ms=duration_ms,
            status_code=outcome.status_code,
            ok=outcome.ok,
            error=outcome.error[:2000],
            retry_at=next_at,
        )
        NotificationDelivery.objects.filter(pk=delivery.pk, attempts=number).update(
            status=status,
            next_attempt_at=next_at,
            delivered_at=now if outcome.ok else None,
            last_error=outcome.error[:2000],
        )
    return wait


def _send(delivery: NotificationDelivery, choices) -> Outcome:
    if delivery.channel == NotificationDelivery.Channel.WEBHOOK:
        if choices is None or not (choices.webhook_enabled and choices.webhook_url):
            return Outcome(ok=False, error="The webhook was turned off.", final=True)
        return send_webhook(delivery.notification, choices)
    if choices is None or not (choices.email_enabled and choices.email):
        return Outcome(ok=False, error="E-mail was turned off.", final=True)
    return send_email(delivery.notification, choices)


def send_webhook(notification: Notification, choices: NotificationSettings) -> Outcome:
    """POST the signed event to the participant's URL, connecting to an address
    checked just now (never resolving the name again), following no redirect."""
    url = choices.webhook_url
    try:
        target = webhook_target(url)
    except UnsafeWebhookUrl as exc:
        return Outcome(ok=False, target=url, error=f"Refused: {exc.message}")
    body = webhook_body(notification)
    headers = {
        **signed_headers(choices.webhook_secret, notification.event_id, body),
        "Host": target.host_header(),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    shown = f"{url} ({target.address})"
    client = httpx.Client(
        timeout=settings.NOTIFICATIONS_WEBHOOK_TIMEOUT_SECONDS,
        follow_redirects=False,
        trust_env=False,  # never through a proxy that would resolve the name
    )
    # Streamed and never read: only the status counts, and a receiver's body,
    # however large, is not loaded.
    request = client.stream(
        "POST", target.url(), content=body, headers=headers, extensions=extensions
    )
    try:
        with client, request as response:
            code = response.status_code
    except httpx.HTTPError as exc:
        return Outcome(ok=False, target=shown, error=f"{type(exc).__name__}: {exc}")
    if 200 <= code < 300:
        return Outcome(ok=True, target=shown, status_code=code)
    return Outcome(ok=False, target=shown, status_code=code, error=f"HTTP {code}")


def send_email(notification: Notification, choices: NotificationSettings) -> Outcome:
    with translation.override(choices.language or settings.LANGUAGE_CODE):
        subject, text = mail.render(notification)
    message = EmailMessage(
        subject=subject,
        body=text,
        to=[choices.email],
        headers={"Yiwang-Event-Id": notification.event_id},
    )
    try:
        message.send()
    except OSError as exc:  # smtplib.SMTPException is one too
        return Outcome(ok=False, target=choices.email, error=f"{exc}")
    return Outcome(ok=True, target=choices.email)
