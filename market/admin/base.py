"""What every operators' admin shares: read-only admins for published and ledger
rows, a reason typed beside the action menu, one permission per custom action or
view (`view` is view only), and the page an action shows to ask for its figures.

Each custom action is declared `@admin.action(permissions=["name"])` with a
`has_name_permission = permission("app.codename")` on its ModelAdmin, so Django
offers and runs it only for operators holding that permission; custom views call
`require` with the same name."""

from datetime import date
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from market.audit import audit_record
from market.scopes import Lookups, scope_filter, scope_of

PLAIN = (str, int, float, bool, Decimal, date, type(None))


def permission(perm: str):
    """A `has_<name>_permission(request)` method: the user holds `perm`
    ("app_label.codename")."""

    def check(self, request: HttpRequest) -> bool:
        return request.user.has_perm(perm)

    check.__doc__ = f"The user holds {perm}."
    check.permission = perm  # type: ignore[attr-defined]  # tests read it
    return check


class ReasonActionForm(helpers.ActionForm):
    """The action menu, with the reason that goes into the audit row."""

    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"size": 40}),
    )


class ReasonForm(forms.Form):
    """An action's own page: its figures and a reason (required: it is recorded
    in the audit trail and, for proposals, shown to the second operator)."""

    reason = forms.CharField(
        label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


def plain(value):
    """A form value as the audit row keeps it: a row by its key, several rows by
    their names."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, models.QuerySet | list | tuple | set):
        return sorted(str(v) for v in value)
    return value if isinstance(value, PLAIN) else str(value)


class AuditedChanges(admin.ModelAdmin):
    """Saves and deletes through admin's own forms write audit rows too: the
    changed fields' values before and after (never a password), in the
    transaction admin opens for the form."""

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        names = [n for n in form.changed_data if "password" not in n]
        if not names:
            return
        audit_record(
            operator=request.user,
            action=f"{self.opts.label_lower}.{'change' if change else 'add'}",
            target=form.instance,
            before={n: plain(form.initial.get(n)) for n in names} if change else {},
            after={n: plain(form.cleaned_data.get(n)) for n in names},
        )

    def delete_model(self, request, obj):
        self._audit_deletion(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # The bulk delete action runs outside admin's transactions: open one.
        with transaction.atomic():
            for obj in queryset:
                self._audit_deletion(request, obj)
            super().delete_queryset(request, queryset)

    def _audit_deletion(self, request, obj) -> None:
        audit_record(
            operator=request.user,
            action=f"{self.opts.label_lower}.delete",
            target=obj,
            before={"object": str(obj)},
        )


class OperatorAdmin(AuditedChanges):
    action_form = ReasonActionForm
    # How rows reach a hub and an industry (market.scopes); None: rows of no one
    # (the catalogue), which every operator sees.
    scope: Lookups | None = None
    # The field naming the operator who made a row: a scoped operator sees its own.
    scope_own: str | None = None

    def get_queryset(self, request: HttpRequest):
        """Only the rows of the operator's scope: lists, actions and pages alike."""
        rows, scope = super().get_queryset(request), scope_of(request.user)
        scoped = scope_filter(rows, scope, self.scope)
        if self.scope_own and not scope.national:
            scoped |= rows.filter(**{self.scope_own: request.user})
        return scoped

    def get_object(self, request: HttpRequest, object_id, from_field=None):
        """A row outside the operator's scope is a 403, not "does not exist"."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None and not scope_of(request.user).national:
            field = self.model._meta.get_field(from_field or self.model._meta.pk.name)
            try:
                key = field.to_python(object_id)
            except ValidationError:
                return None
            if self.model._default_manager.filter(**{field.name: key}).exists():
                raise PermissionDenied
        return obj

    def reason(self, request: HttpRequest) -> str:
        return request.POST.get("reason", "").strip()

    def require(self, request: HttpRequest, name: str) -> None:
        """Refuse (403) an operator without the permission `name` stands for."""
        if not getattr(self, f"has_{name}_permission")(request):
            raise PermissionDenied

    def action_page(
        self, request: HttpRequest, queryset, form: forms.Form, **context
    ) -> HttpResponse:
        """The page an action shows to ask for its figures and reason; it posts
        back to the same action with `apply`."""
        return render(
            request,
            "admin/operator_action.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "form": form,
                "objects": queryset,
                **context,
            },
        )

    def form_for_action(self, request: HttpRequest, form_class: type[forms.Form]):
        """The action's form: bound once submitted from its own page, else
        unbound with the reason typed beside the menu."""
        if "apply" in request.POST:
            return form_class(request.POST)
        return form_class(initial={"reason": self.reason(request)})


class ReadOnlyAdmin(OperatorAdmin):
    """Published or ledger rows: visible, never editable."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
