"""The notification log in admin, read only: what was sent to whom, on which
channel, and each attempt with its HTTP status or error. Settings and secrets are
not shown: a secret signs a participant's webhooks and is theirs alone."""

from django.contrib import admin

from market.admin.base import ReadOnlyAdmin
from market.models import DeliveryAttempt, Notification, NotificationDelivery
from market.scopes import PARTICIPANT


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = readonly_fields = (
        "number",
        "started_at",
        "target",
        "status_code",
        "ok",
        "error",
        "retry_at",
    )
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(ReadOnlyAdmin):
    scope = PARTICIPANT.prefixed("notification__participant")
    list_display = [
        "pk",
        "event_id",
        "participant",
        "channel",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "last_error",
    ]
    list_filter = ["status", "channel", "notification__type"]
    search_fields = [
        "notification__event_id",
        "notification__participant__display_name",
    ]
    list_select_related = ["notification__participant"]
    inlines = [AttemptInline]

    @admin.display(description="event id", ordering="notification__event_id")
    def event_id(self, obj: NotificationDelivery) -> str:
        return obj.notification.event_id

    @admin.display(description="participant")
    def participant(self, obj: NotificationDelivery) -> str:
        return str(obj.notification.participant)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    scope = PARTICIPANT.prefixed("participant")
    list_display = ["event_id", "participant", "category", "type", "occurred_at"]
    list_filter = ["category", "type"]
    search_fields = ["event_id", "participant__display_name"]
    list_select_related = ["participant"]
