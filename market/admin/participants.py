"""Participants, clusters and API keys in admin. A participant's login, roles and
network-operator flag move its money or its rights, so the change form shows them
read-only and each changes through its own permissioned, audited action."""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from market import operations
from market.admin.base import OperatorAdmin, ReadOnlyAdmin, ReasonForm, permission
from market.exceptions import DomainError
from market.models import ApiKey, Cluster, Participant
from market.scopes import PARTICIPANT, Lookups


class LoginForm(ReasonForm):
    username = forms.CharField(label=_("New login (username)"), max_length=150)

    field_order = ["username", "reason"]


@admin.register(Participant)
class ParticipantAdmin(OperatorAdmin):
    scope = PARTICIPANT
    list_display = [
        "display_name",
        "user",
        "is_buyer",
        "is_seller",
        "home_region",
        "legal_entity",
        "industry",
        "is_network_operator",
        "created_at",
    ]
    list_filter = [
        "is_buyer",
        "is_seller",
        "is_network_operator",
        "home_region",
        "industry",
    ]
    search_fields = ["display_name", "user__username", "user__email", "legal_entity"]
    list_select_related = ["user", "home_region"]
    actions = [
        "grant_seller",
        "revoke_seller",
        "grant_buyer",
        "revoke_buyer",
        "flag_network_operator",
        "reassign_login",
    ]
    has_roles_permission = permission("market.set_participant_roles")
    has_network_operator_permission = permission("market.set_network_operator")
    has_login_permission = permission("market.reassign_participant_login")

    def get_readonly_fields(self, request, obj=None):
        fixed = ["is_buyer", "is_seller", "is_network_operator"]
        return [*fixed, "user"] if obj is not None else fixed

    def _each(self, request, queryset, change, done) -> None:
        for participant in queryset.order_by("pk"):
            try:
                with transaction.atomic(durable=True):
                    change(participant)
            except DomainError as exc:
                self.message_user(
                    request, f"{participant}: {exc.message}", messages.ERROR
                )
            else:
                self.message_user(request, done % {"p": participant}, messages.SUCCESS)

    def _roles(self, request, queryset, **roles) -> None:
        self._each(
            request,
            queryset,
            lambda p: operations.participant_roles_set(
                participant_id=p.pk,
                operator=request.user,
                reason=self.reason(request),
                **roles,
            ),
            _("%(p)s: roles updated."),
        )

    @admin.action(description=_("Grant the seller role"), permissions=["roles"])
    def grant_seller(self, request, queryset):
        self._roles(request, queryset, seller=True)

    @admin.action(description=_("Revoke the seller role"), permissions=["roles"])
    def revoke_seller(self, request, queryset):
        self._roles(request, queryset, seller=False)

    @admin.action(description=_("Grant the buyer role"), permissions=["roles"])
    def grant_buyer(self, request, queryset):
        self._roles(request, queryset, buyer=True)

    @admin.action(description=_("Revoke the buyer role"), permissions=["roles"])
    def revoke_buyer(self, request, queryset):
        self._roles(request, queryset, buyer=False)

    @admin.action(
        description=_("Flag as the network operator (receives network payouts)"),
        permissions=["network_operator"],
    )
    def flag_network_operator(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request, _("Select exactly one participant."), messages.ERROR
            )
            return
        self._each(
            request,
            queryset,
            lambda p: operations.participant_network_operator_set(
                participant_id=p.pk, operator=request.user, reason=self.reason(request)
            ),
            _("%(p)s is now the network operator."),
        )

    @admin.action(description=_("Move to another login"), permissions=["login"])
    def reassign_login(self, request, queryset):
        form = self.form_for_action(request, LoginForm)
        if queryset.count() != 1:
            self.message_user(
                request, _("Select exactly one participant."), messages.ERROR
            )
            return None
        if not form.is_bound or not form.is_valid():
            return self.action_page(
                request,
                queryset,
                form,
                action="reassign_login",
                title=_("Move a participant to another login"),
                submit=_("Move"),
            )
        self._each(
            request,
            queryset,
            lambda p: operations.participant_login_reassign(
                participant_id=p.pk,
                username=form.cleaned_data["username"],
                operator=request.user,
                reason=form.cleaned_data["reason"],
            ),
            _("%(p)s moved to the new login."),
        )
        return None


VERIFIED = [
    "verified_at",
    "verified_count",
    "verified_confidential",
    "verified_certifications",
]


@admin.register(Cluster)
class ClusterAdmin(OperatorAdmin):
    scope = Lookups(("region__hub",), ("participant__industry",))
    list_display = [
        "name",
        "participant",
        "region",
        "chip",
        "count",
        "confidential",
        "certifications",
        "verified_at",
        "verified_count",
        "verified_confidential",
        "verified_certifications",
        "created_at",
    ]
    actions = ["verify"]
    has_verify_permission = permission("market.verify_cluster")

    def get_readonly_fields(self, request, obj=None):
        # Orders refer to a cluster's site and chip: they never change once it
        # exists. What is verified changes only by the verify action (audited).
        fixed = ["participant", "region", "chip"] if obj is not None else []
        return [*fixed, *VERIFIED, "declared_at"]

    list_filter = [
        "region",
        "chip__stack",
        "chip__vendor",
        ("verified_at", admin.EmptyFieldListFilter),
        "verified_confidential",
    ]
    search_fields = ["name", "participant__display_name", "chip__code"]
    list_select_related = ["participant", "region", "chip"]

    @admin.action(
        description=_("Verify the selected clusters as declared"),
        permissions=["verify"],
    )
    def verify(self, request, queryset):
        """Record that the region, chip and count were checked, and the declared
        TEE and certifications with them: sells carry them from now on."""
        for cluster in queryset.order_by("pk"):
            try:
                with transaction.atomic(durable=True):
                    operations.cluster_verify(
                        cluster_id=cluster.pk,
                        operator=request.user,
                        reason=self.reason(request),
                        now=timezone.now(),
                    )
            except DomainError as exc:
                self.message_user(request, f"{cluster}: {exc.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(cluster)s: verified.") % {"cluster": cluster.name},
                    messages.SUCCESS,
                )


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    """Keys are created by their owners (shown once, stored hashed); operators see
    who has which key and revoke a compromised one."""

    scope = PARTICIPANT.prefixed("user__participant")

    list_display = [
        "prefix",
        "name",
        "user",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["prefix", "name", "user__username"]
    list_select_related = ["user"]
    exclude = ["digest"]
    actions = ["revoke"]
    has_revoke_permission = permission("market.revoke_apikey")

    @admin.action(description=_("Revoke the selected keys"), permissions=["revoke"])
    def revoke(self, request, queryset):
        for api_key in queryset.order_by("pk"):
            with transaction.atomic(durable=True):
                operations.apikey_revoke_by_operator(
                    key_id=api_key.pk,
                    operator=request.user,
                    reason=self.reason(request),
                )
        self.message_user(
            request,
            _("%(count)d key(s) revoked.") % {"count": queryset.count()},
            messages.SUCCESS,
        )
