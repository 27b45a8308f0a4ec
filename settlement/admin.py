"""Operators' view of the ledger: accounts, entries and holds are read-only. Money
moves only through actions: resolving a dispute, and a manual adjustment that accepts
only a balanced entry and records who made it and why."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from settlement import deposits, services
from settlement.exceptions import SettlementError
from settlement.models import (
    Account,
    DeliveryReport,
    DepositRequest,
    Hold,
    JournalEntry,
    Obligation,
    Posting,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PostingInline(admin.TabularInline):
    model = Posting
    fields = ["account", "amount", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class AdjustmentForm(forms.Form):
    """Lines as `account id: amount`, one per line; they must sum to zero."""

    lines = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One 'account id: amount' per line."),
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))

    def clean_lines(self):
        parsed = []
        for raw in self.cleaned_data["lines"].splitlines():
            if not raw.strip():
                continue
            try:
                account_id, amount = (part.strip() for part in raw.split(":", 1))
                account = Account.objects.get(pk=int(account_id))
                parsed.append((account, Decimal(amount)))
            except (ValueError, InvalidOperation, Account.DoesNotExist) as exc:
                raise forms.ValidationError(_("Bad line: %s") % raw) from exc
        if len(parsed) < 2 or sum(a for _acc, a in parsed) != 0:
            raise forms.ValidationError(
                _("An adjustment is two or more lines summing to 0.")
            )
        return parsed


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
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
        form = AdjustmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic(durable=True):
                    entry = services.adjustment_post(
                        lines=form.cleaned_data["lines"],
                        memo=form.cleaned_data["reason"],
                        caused_by=request.user,
                    )
            except SettlementError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request, _("Posted entry #%d.") % entry.pk, messages.SUCCESS
                )
                return redirect("admin:settlement_journalentry_change", entry.pk)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": _("Manual adjustment"),
        }
        return render(request, "admin/settlement/adjustment.html", context)


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "participant", "instrument", "balance"]
    list_filter = ["kind"]
    search_fields = ["participant__display_name", "instrument"]
    list_select_related = ["participant"]


@admin.register(Posting)
class PostingAdmin(ReadOnlyAdmin):
    list_display = ["id", "entry", "account", "amount", "created_at"]
    list_filter = ["account__kind"]
    search_fields = ["entry__reference", "account__participant__display_name"]
    list_select_related = ["entry", "account"]


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
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


class ResolveForm(forms.Form):
    delivered_quantity = forms.DecimalField(min_value=0, decimal_places=1)


@admin.register(Obligation)
class ObligationAdmin(ReadOnlyAdmin):
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

    @admin.action(description=_("Resolve dispute: set the delivered quantity"))
    def resolve_dispute(self, request, queryset):
        form = ResolveForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for obligation in queryset:
                try:
                    with transaction.atomic(durable=True):
                        services.dispute_resolve(
                            trade_id=obligation.trade_id,
                            delivered=form.cleaned_data["delivered_quantity"],
                            resolved_by=request.user,
                            now=timezone.now(),
                        )
                except SettlementError as exc:
                    self.message_user(
                        request, f"{obligation}: {exc.message}", messages.ERROR
                    )
                else:
                    self.message_user(
                        request, _("Resolved %s.") % obligation, messages.SUCCESS
                    )
            return None
        return render(
            request,
            "admin/settlement/resolve.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "obligations": queryset,
                "title": _("Resolve dispute"),
                "action": "resolve_dispute",
            },
        )


@admin.register(DeliveryReport)
class DeliveryReportAdmin(ReadOnlyAdmin):
    list_display = ["obligation", "delivered_quantity", "reported_by", "reported_at"]
    search_fields = ["obligation__trade_id"]


def participant_ledger_url(participant_id: int) -> str:
    """The postings of one participant's accounts (a lookup the admin allows)."""
    ids = Account.objects.filter(participant_id=participant_id).values_list(
        "pk", flat=True
    )
    base = reverse("admin:settlement_posting_changelist")
    return f"{base}?account__in={','.join(str(i) for i in ids) or '0'}"


@admin.register(DepositRequest)
class DepositRequestAdmin(ReadOnlyAdmin):
    """Operators approve or reject what participants asked to deposit; approval
    credits the ledger once (settlement.deposits)."""

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
    actions = ["approve", "reject"]

    @admin.display(description=_("ledger"))
    def ledger(self, obj: DepositRequest) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            participant_ledger_url(obj.participant_id),
            _("postings"),
        )

    def _decide(self, request, queryset, decide, done_message) -> None:
        for deposit in queryset.order_by("pk"):
            try:
                with transaction.atomic(durable=True):
                    decide(request_id=deposit.pk, operator=request.user)
            except SettlementError as exc:
                self.message_user(
                    request, f"#{deposit.pk}: {exc.message}", messages.ERROR
                )
            else:
                self.message_user(request, done_message % deposit.pk, messages.SUCCESS)

    @admin.action(description=_("Approve: credit the deposit"))
    def approve(self, request, queryset):
        self._decide(
            request,
            queryset,
            deposits.deposit_request_approve,
            _("Deposit request #%d approved and credited."),
        )

    @admin.action(description=_("Reject"))
    def reject(self, request, queryset):
        self._decide(
            request,
            queryset,
            deposits.deposit_request_reject,
            _("Deposit request #%d rejected."),
        )
