"""Notifications a participant opts in to: by e-mail and by a signed webhook, for
fills, delivery deadlines, disputes and settlements (market/notifications/).

`Notification` is the outbox: one row per event and recipient, with a unique event
id, so recording the same event again writes nothing (the receiver's idempotency key
is that id). Each channel it goes out on is a `NotificationDelivery`, attempted by
Celery with exponential backoff; every attempt is logged (`DeliveryAttempt`). The
rows live in `market` because every app may import it: exchange records fills and
settlement its deliveries and settlements without importing each other.
"""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from market.models.participants import Participant


class NotificationCategory(models.TextChoices):
    """What a participant can opt in to."""

    FILLS = "fills", _("fills")
    DEADLINES = "deadlines", _("delivery report deadlines")
    DISPUTES = "disputes", _("disputes")
    SETTLEMENTS = "settlements", _("settlements")


class NotificationSettings(models.Model):
    """A participant's choices. The webhook secret is kept in the clear because the
    exchange signs with it (unlike an API key, which is only ever compared); the
    owner sees it once, when it is made."""

    participant = models.OneToOneField(
        Participant, on_delete=models.CASCADE, related_name="notification_settings"
    )
    email_enabled = models.BooleanField(_("send e-mail"), default=False)
    email = models.EmailField(_("e-mail address"), blank=True)
    webhook_enabled = models.BooleanField(_("call the webhook"), default=False)
    webhook_url = models.URLField(_("webhook URL"), max_length=500, blank=True)
    webhook_secret = models.CharField(_("signing secret"), max_length=100, blank=True)
    secret_prefix = models.CharField(_("secret prefix"), max_length=16, blank=True)
    categories = models.JSONField(_("events"), default=list, blank=True)
    # E-mails are written in the language the owner used when saving.
    language = models.CharField(_("language"), max_length=16, default="en")
    # Events before this moment are never sent: turning notifications on does not
    # replay a participant's history.
    active_since = models.DateTimeField(_("active since"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")

    def __str__(self) -> str:
        return f"notifications of {self.participant_id}"

    def channels(self) -> list[str]:
        out: list[str] = []
        if self.email_enabled and self.email:
            out.append(NotificationDelivery.Channel.EMAIL)
        if self.webhook_enabled and self.webhook_url and self.webhook_secret:
            out.append(NotificationDelivery.Channel.WEBHOOK)
        return out


class Notification(models.Model):
    """One event for one participant (the outbox row)."""

    class Type(models.TextChoices):
        FILL = "fill", _("fill")
        REPORT_DUE = "report_due", _("delivery report due")
        REPORTED = "reported", _("delivery reported")
        DISPUTED = "disputed", _("dispute opened")
        RESOLVED = "resolved", _("dispute resolved")
        SETTLED = "settled", _("settled")

    event_id = models.CharField(_("event id"), max_length=80, unique=True)
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="notifications"
    )
    category = models.CharField(
        _("category"), max_length=16, choices=NotificationCategory
    )
    type = models.CharField(_("type"), max_length=16, choices=Type)
    payload = models.JSONField(_("data"), encoder=DjangoJSONEncoder)
    occurred_at = models.DateTimeField(_("occurred at"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["participant", "-created_at"])]

    def __str__(self) -> str:
        return self.event_id


class NotificationDelivery(models.Model):
    """A notification on one channel: at most one per channel, so an event is
    sent once however often it is recorded or its task runs."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        WEBHOOK = "webhook", _("webhook")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel)
    status = models.CharField(
        _("status"), max_length=16, choices=Status, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("notification delivery")
        verbose_name_plural = _("notification deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="delivery_one_per_channel"
            ),
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(delivered_at__isnull=False),
                name="delivery_delivered_has_time",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.notification_id} {self.channel} ({self.status})"


class DeliveryAttempt(models.Model):
    """One try: to where, the HTTP status or the error, and when the next comes."""

    delivery = models.ForeignKey(
        NotificationDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField(_("attempt"))
    target = models.CharField(_("sent to"), max_length=500, blank=True)
    started_at = models.DateTimeField(_("started at"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    status_code = models.PositiveIntegerField(_("HTTP status"), null=True, blank=True)
    ok = models.BooleanField(_("succeeded"), default=False)
    error = models.TextField(_("error"), blank=True)
    retry_at = models.DateTimeField(_("retry at"), null=True, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "number"], name="attempt_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id}#{self.number}"


class NotificationCursor(models.Model):
    """How far a source of events has been read (for fills: an instrument's
    sequence number; `key` is the instrument's id)."""

    stream = models.CharField(max_length=32)
    key = models.BigIntegerField()
    position = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["stream", "key"], name="cursor_unique")
        ]

    def __str__(self) -> str:
        return f"{self.stream}:{self.key}@{self.position}"
