"""The operators' own records in admin: the audit trail (read-only, filterable,
exportable as CSV by those allowed) and the four-eyes proposals, which a second
operator approves or rejects here."""

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.http import HttpRequest, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from market.admin.base import (
    AuditedChanges,
    ReadOnlyAdmin,
    ReasonActionForm,
    permission,
)
from market.audit import audit_csv_lines, audit_record
from market.exceptions import (
    DomainError,
    ProposalExpired,
    ProposalNotPending,
    SelfApproval,
)
from market.models import AuditEntry, OperatorScope, Proposal
from market.proposals import proposal_approve, proposal_reject, proposals_expire
from market.scopes import Lookups, scope_of

admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class AuditedUserAdmin(AuditedChanges, UserAdmin):
    """Who gave which login staff status, a group or a permission is part of the
    trail (a password is never recorded). A lost authenticator is replaced by
    removing the login's TOTP devices (its own permission, audited): the login then
    enrols a new one at its next admin visit."""

    action_form = ReasonActionForm
    actions = ["reset_second_factor"]
    has_reset_second_factor_permission = permission("market.reset_second_factor")

    @admin.action(
        description=_("Reset the second factor (a lost authenticator)"),
        permissions=["reset_second_factor"],
    )
    def reset_second_factor(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, _("Give a reason."), messages.ERROR)
            return
        for user in queryset.exclude(pk=request.user.pk).order_by("pk"):
            with transaction.atomic(durable=True):
                devices = TOTPDevice.objects.select_for_update().filter(user=user)
                removed = [d.name for d in devices]
                devices.delete()
                audit_record(
                    operator=request.user,
                    action="user.reset_second_factor",
                    target=user,
                    before={"devices": removed},
                    after={"devices": []},
                    reason=reason,
                )
            self.message_user(
                request,
                _("%s enrols a new authenticator at the next admin visit.") % user,
                messages.SUCCESS,
            )


@admin.register(Group)
class AuditedGroupAdmin(AuditedChanges, GroupAdmin):
    pass


@admin.register(OperatorScope)
class OperatorScopeAdmin(AuditedChanges, admin.ModelAdmin):
    """Who works at which level: a hub (regional) or an industry; a staff login
    without a row is national. Changes are audited."""

    list_display = ["user", "hub", "industry"]
    list_filter = ["hub", "industry"]
    list_select_related = ["user", "hub"]
    autocomplete_fields = ["user"]

    # Only a national operator sees or sets scopes, never a scoped one its own.
    def has_module_permission(self, request):
        return scope_of(request.user).national and super().has_module_permission(
            request
        )

    def has_view_permission(self, request, obj=None):
        national = scope_of(request.user).national
        return national and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return scope_of(request.user).national and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        national = scope_of(request.user).national
        return national and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        national = scope_of(request.user).national
        return national and super().has_delete_permission(request, obj)


def proposal_made(model_admin, request: HttpRequest, proposal: Proposal):
    """Tell the proposer a second operator must approve, and show the proposal."""
    model_admin.message_user(
        request,
        _("Proposal #%(id)d made: it takes effect when a second operator approves it.")
        % {"id": proposal.pk},
        messages.SUCCESS,
    )
    return redirect("admin:market_proposal_change", proposal.pk)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    scope = Lookups()
    scope_own = "operator"
    list_display = [
        "id",
        "created_at",
        "operator",
        "action",
        "target_type",
        "target_id",
        "target_repr",
        "reason",
        "proposal",
    ]
    list_filter = [
        "action",
        "target_type",
        ("operator", admin.RelatedOnlyFieldListFilter),
        "created_at",
    ]
    search_fields = ["target_id", "target_repr", "reason", "operator__username"]
    list_select_related = ["operator"]
    date_hierarchy = "created_at"
    actions = ["export_csv"]
    has_export_permission = permission("market.export_auditentry")

    @admin.action(
        description=_("Export the selected rows as CSV"), permissions=["export"]
    )
    def export_csv(self, request, queryset) -> StreamingHttpResponse:
        rows = queryset.select_related("operator").order_by("pk")
        # Who took the trail out of the system is part of the trail.
        with transaction.atomic(durable=True):
            audit_record(
                operator=request.user,
                action="auditentry.export",
                target_type="market.auditentry",
                after={"rows": rows.count()},
                reason=self.reason(request),
            )
        response = StreamingHttpResponse(
            audit_csv_lines(rows.iterator()), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="audit.csv"'
        return response


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdmin):
    scope = Lookups()
    scope_own = "proposed_by"
    list_display = [
        "id",
        "kind",
        "summary",
        "status_now",
        "proposed_by",
        "proposed_at",
        "expires_at",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["summary", "reason", "target"]
    list_select_related = ["proposed_by", "decided_by"]
    date_hierarchy = "proposed_at"
    actions = ["approve", "reject"]
    has_approve_permission = permission("market.approve_proposal")

    @admin.display(description=_("status"))
    def status_now(self, obj: Proposal) -> str:
        if obj.is_expired(timezone.now()):
            return str(Proposal.Status.EXPIRED.label)
        return obj.get_status_display()

    @admin.action(
        description=_("Approve: carry out the selected proposals"),
        permissions=["approve"],
    )
    def approve(self, request, queryset):
        self._decide(request, queryset, approve=True)

    @admin.action(
        description=_("Reject the selected proposals"), permissions=["approve"]
    )
    def reject(self, request, queryset):
        self._decide(request, queryset, approve=False)

    def _decide(self, request, queryset, *, approve: bool) -> None:
        now = timezone.now()
        with transaction.atomic(durable=True):
            proposals_expire(now=now)
        for proposal in queryset.order_by("pk"):
            try:
                with transaction.atomic(durable=True):
                    if approve:
                        proposal_approve(
                            proposal_id=proposal.pk, approver=request.user, now=now
                        )
                    else:
                        proposal_reject(
                            proposal_id=proposal.pk,
                            operator=request.user,
                            note=self.reason(request),
                            now=now,
                        )
            except DomainError as exc:
                self.message_user(request, refusal(proposal, exc), messages.ERROR)
            else:
                done = (
                    _("Proposal #%(id)d approved.")
                    if approve
                    else _("Proposal #%(id)d rejected.")
                )
                self.message_user(request, done % {"id": proposal.pk}, messages.SUCCESS)


def refusal(proposal: Proposal, exc: DomainError) -> str:
    """Why a proposal could not be decided, in the operator's language."""
    if isinstance(exc, SelfApproval):
        text = _(
            "Proposal #%(id)d: you proposed it, so a second operator must approve."
        )
    elif isinstance(exc, ProposalExpired):
        text = _("Proposal #%(id)d expired (24 hours): propose it again.")
    elif isinstance(exc, ProposalNotPending):
        text = _("Proposal #%(id)d was already decided.")
    else:
        return f"#{proposal.pk}: {exc.message}"
    return text % {"id": proposal.pk}
