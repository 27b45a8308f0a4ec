"""Operators' view of the ledger: accounts, entries and holds are read-only. Money
moves only through actions, each with its own permission and audit row: deposit and
withdrawal decisions, and proposals a second operator approves (manual adjustments
between a participant's available balance and `external`, dispute resolutions,
deposits and withdrawal payouts above SETTLEMENT_FOUR_EYES_DEPOSIT_CNY)."""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from market.admin import ReadOnlyAdmin, permission
from market.admin.base import ReasonForm
from market.admin.operators import proposal_made
from market.exceptions import DomainError
from market.models import Participant, Proposal
from market.scopes import PARTICIPANT, Lookups, scope_filter, scope_of
from settlement import operators
from settlement.models import (
    Account,
    DeliveryReport,
    DepositRequest,
    Hold,
    JournalEntry,
    Obligation,
    Posting,
    ProviderScore,
    WithdrawalRequest,
)

# Deliveries where they are delivered; an industry's, by either party.
DELIVERIES = Lookups(("region__hub",), ("buyer__industry", "seller__industry"))


class PostingInline(admin.TabularInline):
    model = Posting
    fields = ["account", "amount", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class AdjustmentForm(ReasonForm):
    """Between one participant's available balance and `external`, nothing else."""

    participant = forms.ModelChoiceField(
        label=_("Participant (id)"),
        queryset=Participant.objects.all(),
        widget=forms.TextInput(attrs={"size": 10}),
    )
    amount = forms.DecimalField(
        label=_("Amount (CNY)"),
        max_digits=20,
        decimal_places=4,
        help_text=_(
            "Positive: credited to the participant's available balance from "
            "external; negative: debited from it."
        ),
    )

    field_order = ["participant", "amount", "reason"]


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    scope = Lookups()
    list_display = [
        "id",
        "kind",
        "reference",
        "idempotency_key",
        "caused_by",
        "created_at",
    ]
    list_filter = ["kind"]
    search_fields = ["reference", "idempotency_key", "memo"]
    inlines = [PostingInline]
    date_hierarchy = "created_at"

    has_adjust_permission = permission("settlement.post_adjustment")

    def get_urls(self):
        return [
            path(
                "adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="settlement_journalentry_adjust",
            ),
            *super().get_urls(),
        ]

    def adjust_view(self, request):
        """Propose a manual adjustment; a second operator's approval posts it."""
        self.require(request, "adjust")
        form = AdjustmentForm(request.POST or None)
        # Only participants of the operator's scope (a regional one's hub).
        form.fields["participant"].queryset = scope_filter(
            Participant.objects.all(), scope_of(request.user), PARTICIPANT
        )
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic(durable=True):
                    proposal = operators.adjustment_propose(
                        participant_id=form.cleaned_data["participant"].pk,
                        amount=form.cleaned_data["amount"],
                        operator=request.user,
                        reason=form.cleaned_data["reason"],
                        now=timezone.now(),
                    )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                return proposal_made(self, request, proposal)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": _("Propose a manual adjustment"),
        }
        return render(request, "admin/settlement/adjustment.html", context)


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    scope = PARTICIPANT.prefixed("participant")
    list_display = ["id", "kind", "participant", "instrument", "balance"]
    list_filter = ["kind"]
    search_fields = ["participant__display_name", "instrument"]
    list_select_related = ["participant"]


@admin.register(Posting)
class PostingAdmin(ReadOnlyAdmin):
    scope = PARTICIPANT.prefixed("account__participant")
    list_display = ["id", "entry", "account", "amount", "created_at"]
    list_filter = ["account__kind"]
    search_fields = ["entry__reference", "account__participant__display_name"]
    list_select_related = ["entry", "account"]


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    scope = PARTICIPANT.prefixed("participant")
    list_display = [
        "id",
        "participant",
        "kind",
        "reference",
        "instrument",
        "amount",
        "status",
        "resolved_at",
    ]
    list_filter = ["kind", "status"]
    search_fields = ["reference", "instrument", "participant__display_name"]


class ResolveForm(ReasonForm):
    delivered_quantity = forms.DecimalField(
        label=_("delivered (SCU-h)"), min_value=0, decimal_places=1
    )

    field_order = ["delivered_quantity", "reason"]


@admin.register(Obligation)
class ObligationAdmin(ReadOnlyAdmin):
    scope = DELIVERIES
    list_display = [
        "trade_id",
        "instrument",
        "buyer",
        "seller",
        "quantity",
        "delivered_quantity",
        "status",
        "confirm_deadline",
        "settled_at",
    ]
    list_filter = ["status"]
    search_fields = [
        "trade_id",
        "instrument",
        "buyer__display_name",
        "seller__display_name",
    ]
    list_select_related = ["buyer", "seller"]
    actions = ["resolve_dispute"]
    has_resolve_permission = permission("settlement.resolve_dispute")

    @admin.action(
        description=_("Resolve dispute: propose the delivered quantity"),
        permissions=["resolve"],
    )
    def resolve_dispute(self, request, queryset):
        form = self.form_for_action(request, ResolveForm)
        if not form.is_bound or not form.is_valid():
            return self.action_page(
                request,
                queryset,
                form,
                action="resolve_dispute",
                title=_("Resolve dispute"),
                submit=_("Propose"),
                note=_("A second operator's approval settles what was delivered."),
            )
        for obligation in queryset:
            try:
                with transaction.atomic(durable=True):
                    proposal = operators.dispute_resolution_propose(
                        trade_id=obligation.trade_id,
                        delivered=form.cleaned_data["delivered_quantity"],
                        operator=request.user,
                        reason=form.cleaned_data["reason"],
                        now=timezone.now(),
                    )
            except DomainError as exc:
                self.message_user(
                    request, f"{obligation}: {exc.message}", messages.ERROR
                )
            else:
                self.message_user(request, proposed(proposal), messages.SUCCESS)
        return None


@admin.register(DeliveryReport)
class DeliveryReportAdmin(ReadOnlyAdmin):
    scope = DELIVERIES.prefixed("obligation")
    list_display = ["obligation", "delivered_quantity", "reported_by", "reported_at"]
    search_fields = ["obligation__trade_id"]


@admin.register(ProviderScore)
class ProviderScoreAdmin(ReadOnlyAdmin):
    """Reliability as last computed from settled trades (settlement/reliability.py):
    never edited by hand."""

    scope = PARTICIPANT.prefixed("participant")

    list_display = [
        "entity",
        "participant",
        "reliability",
        "deliveries",
        "sold",
        "delivered",
        "disputes_lost",
        "late_reports",
        "updated_at",
    ]
    search_fields = ["entity", "participant__display_name"]
    list_select_related = ["participant"]


def participant_ledger_url(participant_id: int) -> str:
    """The postings of one participant's accounts (a lookup the admin allows)."""
    ids = Account.objects.filter(participant_id=participant_id).values_list(
        "pk", flat=True
    )
    base = reverse("admin:settlement_posting_changelist")
    return f"{base}?account__in={','.join(str(i) for i in ids) or '0'}"


class MoneyRequestAdmin(ReadOnlyAdmin):
    """A participant's request to move money in or out, which treasury decides:
    each selected request in its own durable transaction, a refusal reported beside
    it and the others still decided."""

    scope = PARTICIPANT.prefixed("participant")
    list_display = [
        "id",
        "participant",
        "amount",
        "status",
        "created_at",
        "decided_by",
        "decided_at",
        "ledger",
    ]
    list_filter = ["status"]
    search_fields = ["participant__display_name", "participant__user__username"]
    list_select_related = ["participant", "decided_by"]
    date_hierarchy = "created_at"

    @admin.display(description=_("ledger"))
    def ledger(self, obj) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            participant_ledger_url(obj.participant_id),
            _("postings"),
        )

    def decide_each(self, request, queryset, decide, done: str) -> None:
        """`decide(row)` for each selected row; `done` % its id when it took
        effect, the proposal's message when it became one."""
        for row in queryset.order_by("pk"):
            try:
                with transaction.atomic(durable=True):
                    outcome = decide(row)
            except DomainError as exc:
                self.message_user(request, f"#{row.pk}: {exc.message}", messages.ERROR)
            else:
                message = (
                    proposed(outcome)
                    if isinstance(outcome, Proposal)
                    else done % row.pk
                )
                self.message_user(request, message, messages.SUCCESS)


@admin.register(DepositRequest)
class DepositRequestAdmin(MoneyRequestAdmin):
    """Operators approve or reject what participants asked to deposit; approval
    credits the ledger once (settlement.deposits)."""

    actions = ["approve", "reject"]
    has_approve_permission = permission("settlement.approve_depositrequest")

    @admin.action(
        description=_("Approve: credit the deposit (a proposal above the limit)"),
        permissions=["approve"],
    )
    def approve(self, request, queryset):
        self.decide_each(
            request,
            queryset,
            lambda deposit: operators.deposit_approve(
                request_id=deposit.pk,
                operator=request.user,
                reason=self.reason(request),
                now=timezone.now(),
            ),
            _("Deposit request #%d approved and credited."),
        )

    @admin.action(description=_("Reject"), permissions=["approve"])
    def reject(self, request, queryset):
        self.decide_each(
            request,
            queryset,
            lambda deposit: operators.deposit_reject(
                request_id=deposit.pk,
                operator=request.user,
                reason=self.reason(request),
            ),
            _("Deposit request #%d rejected."),
        )


@admin.register(WithdrawalRequest)
class WithdrawalRequestAdmin(MoneyRequestAdmin):
    """Treasury pays out or rejects what participants asked to withdraw; the amount
    was reserved when they asked (settlement.withdrawals). Payouts above the
    four-eyes amount are proposals."""

    actions = ["pay", "reject"]
    has_pay_permission = permission("settlement.pay_withdrawalrequest")
    has_reject_permission = permission("settlement.reject_withdrawalrequest")

    @admin.action(
        description=_("Pay out (a proposal above the limit)"),
        permissions=["pay"],
    )
    def pay(self, request, queryset):
        self.decide_each(
            request,
            queryset,
            lambda withdrawal: operators.withdrawal_pay(
                request_id=withdrawal.pk,
                operator=request.user,
                reason=self.reason(request),
                now=timezone.now(),
            ),
            _("Withdrawal request #%d paid out."),
        )

    @admin.action(
        description=_("Reject: return the amount to the available balance"),
        permissions=["reject"],
    )
    def reject(self, request, queryset):
        reason = self.reason(request)
        if not reason:
            # The participant reads it on its withdrawals page.
            self.message_user(
                request, _("Type the reason for the rejection."), messages.ERROR
            )
            return
        self.decide_each(
            request,
            queryset,
            lambda withdrawal: operators.withdrawal_reject(
                request_id=withdrawal.pk, operator=request.user, reason=reason
            ),
            _("Withdrawal request #%d rejected."),
        )


def proposed(proposal: Proposal) -> str:
    return _(
        "Proposal #%(id)d made (%(summary)s): it takes effect when a second "
        "operator approves it."
    ) % {"id": proposal.pk, "summary": proposal.summary}
