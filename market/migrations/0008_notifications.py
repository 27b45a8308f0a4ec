"""Notifications (issue 19): a participant's settings, the outbox of events, one
delivery per channel and the log of every attempt, and the cursors of the sources
read from the event log (market/models/notifications.py)."""

import django.core.serializers.json
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("market", "0007_cluster_attributes"),
    ]

    operations = [
        migrations.CreateModel(
            name="Notification",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "event_id",
                    models.CharField(
                        max_length=80, unique=True, verbose_name="event id"
                    ),
                ),
                (
                    "category",
                    models.CharField(
                        choices=[
                            ("fills", "fills"),
                            ("deadlines", "delivery report deadlines"),
                            ("disputes", "disputes"),
                            ("settlements", "settlements"),
                        ],
                        max_length=16,
                        verbose_name="category",
                    ),
                ),
                (
                    "type",
                    models.CharField(
                        choices=[
                            ("fill", "fill"),
                            ("report_due", "delivery report due"),
                            ("reported", "delivery reported"),
                            ("disputed", "dispute opened"),
                            ("resolved", "dispute resolved"),
                            ("settled", "settled"),
                        ],
                        max_length=16,
                        verbose_name="type",
                    ),
                ),
                (
                    "payload",
                    models.JSONField(
                        encoder=django.core.serializers.json.DjangoJSONEncoder,
                        verbose_name="data",
                    ),
                ),
                ("occurred_at", models.DateTimeField(verbose_name="occurred at")),
                (
                    "created_at",
                    models.DateTimeField(auto_now_add=True, verbose_name="created at"),
                ),
                (
                    "participant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notifications",
                        to="market.participant",
                    ),
                ),
            ],
            options={
                "verbose_name": "notification",
                "verbose_name_plural": "notifications",
                "ordering": ["-pk"],
            },
        ),
        migrations.CreateModel(
            name="NotificationCursor",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("stream", models.CharField(max_length=32)),
                ("key", models.BigIntegerField()),
                ("position", models.BigIntegerField(default=0)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("stream", "key"), name="cursor_unique"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="NotificationDelivery",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "channel",
                    models.CharField(
                        choices=[("email", "e-mail"), ("webhook", "webhook")],
                        max_length=8,
                        verbose_name="channel",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "pending"),
                            ("delivered", "delivered"),
                            ("failed", "failed"),
                        ],
                        default="pending",
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                (
                    "attempts",
                    models.PositiveIntegerField(default=0, verbose_name="attempts"),
                ),
                (
                    "next_attempt_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="next attempt at"
                    ),
                ),
                (
                    "delivered_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="delivered at"
                    ),
                ),
                ("last_error", models.TextField(blank=True, verbose_name="last error")),
                (
                    "created_at",
                    models.DateTimeField(auto_now_add=True, verbose_name="created at"),
                ),
                (
                    "notification",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="market.notification",
                    ),
                ),
            ],
            options={
                "verbose_name": "notification delivery",
                "verbose_name_plural": "notification deliveries",
                "ordering": ["-pk"],
            },
        ),
        migrations.CreateModel(
            name="DeliveryAttempt",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("number", models.PositiveIntegerField(verbose_name="attempt")),
                (
                    "target",
                    models.CharField(
                        blank=True, max_length=500, verbose_name="sent to"
                    ),
                ),
                ("started_at", models.DateTimeField(verbose_name="started at")),
                (
                    "duration_ms",
                    models.PositiveIntegerField(
                        default=0, verbose_name="duration (ms)"
                    ),
                ),
                (
                    "status_code",
                    models.PositiveIntegerField(
                        blank=True, null=True, verbose_name="HTTP status"
                    ),
                ),
                ("ok", models.BooleanField(default=False, verbose_name="succeeded")),
                ("error", models.TextField(blank=True, verbose_name="error")),
                (
                    "retry_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="retry at"
                    ),
                ),
                (
                    "delivery",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="attempt_log",
                        to="market.notificationdelivery",
                    ),
                ),
            ],
            options={
                "verbose_name": "delivery attempt",
                "verbose_name_plural": "delivery attempts",
                "ordering": ["delivery", "number"],
            },
        ),
        migrations.CreateModel(
            name="NotificationSettings",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "email_enabled",
                    models.BooleanField(default=False, verbose_name="send e-mail"),
                ),
                (
                    "email",
                    models.EmailField(
                        blank=True, max_length=254, verbose_name="e-mail address"
                    ),
                ),
                (
                    "webhook_enabled",
                    models.BooleanField(default=False, verbose_name="call the webhook"),
                ),
                (
                    "webhook_url",
                    models.URLField(
                        blank=True, max_length=500, verbose_name="webhook URL"
                    ),
                ),
                (
                    "webhook_secret",
                    models.CharField(
                        blank=True, max_length=100, verbose_name="signing secret"
                    ),
                ),
                (
                    "secret_prefix",
                    models.CharField(
                        blank=True, max_length=16, verbose_name="secret prefix"
                    ),
                ),
                (
                    "categories",
                    models.JSONField(blank=True, default=list, verbose_name="events"),
                ),
                (
                    "language",
                    models.CharField(
                        default="en", max_length=16, verbose_name="language"
                    ),
                ),
                (
                    "active_since",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="active since"
                    ),
                ),
                (
                    "updated_at",
                    models.DateTimeField(auto_now=True, verbose_name="updated at"),
                ),
                (
                    "participant",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notification_settings",
                        to="market.participant",
                    ),
                ),
            ],
            options={
                "verbose_name": "notification settings",
                "verbose_name_plural": "notification settings",
            },
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                fields=["participant", "-created_at"],
                name="market_noti_partici_8bf494_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="notificationdelivery",
            index=models.Index(
                fields=["status", "next_attempt_at"],
                name="market_noti_status_aa6738_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="notificationdelivery",
            constraint=models.UniqueConstraint(
                fields=("notification", "channel"), name="delivery_one_per_channel"
            ),
        ),
        migrations.AddConstraint(
            model_name="notificationdelivery",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "delivered"), _negated=True),
                    ("delivered_at__isnull", False),
                    _connector="OR",
                ),
                name="delivery_delivered_has_time",
            ),
        ),
        migrations.AddConstraint(
            model_name="deliveryattempt",
            constraint=models.UniqueConstraint(
                fields=("delivery", "number"), name="attempt_unique_number"
            ),
        ),
    ]
