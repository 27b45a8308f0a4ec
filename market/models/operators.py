"""What operators do in admin: the audit trail of every operator action, and the
proposals that take effect only once a second operator approves them (four-eyes).

They live in `market` because every app may import it: settlement and exchange write
audit rows and register what their proposals do, without importing each other.
"""

from datetime import datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Proposal(models.Model):
    """An operator action that needs a second operator: a manual adjustment, a large
    deposit approval, a dispute resolution or a table publication. `payload` holds
    what the owning app needs to carry it out once approved (market.proposals)."""

    class Kind(models.TextChoices):
        ADJUSTMENT = "adjustment", _("manual adjustment")
        DEPOSIT_APPROVAL = "deposit_approval", _("deposit approval")
        DISPUTE_RESOLUTION = "dispute_resolution", _("dispute resolution")
        TABLE_PUBLICATION = "table_publication", _("table publication")
        WITHDRAWAL_PAYOUT = "withdrawal_payout", _("withdrawal payout")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        EXPIRED = "expired", _("expired")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    # What the proposal acts on ("deposit-request:7", "trade:42"): one pending
    # proposal per target.
    target = models.CharField(_("target"), max_length=64, blank=True)
    summary = models.CharField(_("summary"), max_length=255)
    payload = models.JSONField(_("payload"), encoder=DjangoJSONEncoder)
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    proposed_at = models.DateTimeField(_("proposed at"))
    expires_at = models.DateTimeField(_("expires at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        permissions = [
            ("approve_proposal", "Can approve or reject another operator's proposal")
        ]
        constraints = [
            # The database itself refuses a proposal approved by its proposer.
            models.CheckConstraint(
                condition=~Q(status="approved")
                | Q(decided_by__isnull=False) & ~Q(decided_by=F("proposed_by")),
                name="proposal_approved_by_another",
            ),
        ]
        indexes = [models.Index(fields=["status", "kind", "target"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}: {self.summary}"

    def is_expired(self, now: datetime) -> bool:
        return self.status == self.Status.PENDING and now >= self.expires_at


class AuditEntry(models.Model):
    """One operator action on one object: who, what, when, before, after and why.
    Append-only: on PostgreSQL a trigger refuses UPDATE and DELETE (migration
    0006), and admin shows the rows read-only."""

    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("operator"),
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    # The object acted on, as "app_label.model" and its key ("" for the catalogue).
    target_type = models.CharField(_("object type"), max_length=64)
    target_id = models.CharField(_("object id"), max_length=64, blank=True)
    target_repr = models.CharField(_("object"), max_length=255, blank=True)
    before = models.JSONField(_("before"), default=dict, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("after"), default=dict, encoder=DjangoJSONEncoder)
    reason = models.TextField(_("reason"), blank=True)
    proposal = models.ForeignKey(
        Proposal,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_entries",
        verbose_name=_("proposal"),
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        permissions = [("export_auditentry", "Can export the audit trail as CSV")]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.target_type}:{self.target_id}"


class OperatorScope(models.Model):
    """The level an operator works at (DESIGN.md "Operators"), after the national
    platform's: a hub (its regions' participants, clusters, deliveries, disputes,
    monitoring, and suspending its regions) or an industry (its participants).
    A staff login without a scope is national: it sees everything."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="operator_scope",
        verbose_name=_("operator"),
    )
    hub = models.ForeignKey(
        "market.Hub",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("hub (regional operator)"),
    )
    industry = models.SlugField(
        _("industry (industry operator)"), max_length=32, blank=True
    )

    class Meta:
        verbose_name = _("operator scope")
        verbose_name_plural = _("operator scopes")
        # Declared here, with the other rights over operators' logins.
        permissions = [
            ("reset_second_factor", "Can remove a staff login's lost TOTP device")
        ]
        constraints = [
            # Exactly one level: a hub or an industry.
            models.CheckConstraint(
                condition=Q(hub__isnull=False, industry="")
                | Q(hub__isnull=True) & ~Q(industry=""),
                name="operator_scope_one_level",
            ),
        ]

    def __str__(self) -> str:
        level = f"hub {self.hub_id}" if self.hub_id else f"industry {self.industry}"
        return f"{self.user} ({level})"
