"""Operators' pages in the admin, read-only, staff only: reconciliation (every ledger
and book invariant, the same checks as `manage.py reconcile`) and the monitoring view
(the public summary plus the buyers by name and the machinery's health)."""

from django.contrib import admin
from django.contrib.auth.decorators import permission_required
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from exchange.reconcile import reconcile
from exchange.web.published import operator_monitoring_context
from market.scopes import scope_of


# Staff alone is not enough: each page needs a view permission (the `viewer` group
# has them), so a login with no permission at all sees nothing (403).
@require_http_methods(["GET", "HEAD", "POST"])
@permission_required("settlement.view_journalentry", raise_exception=True)
def reconcile_view(request):
    """GET shows the button; POST runs the checks (they read the whole ledger)."""
    report = reconcile() if request.method == "POST" else None
    failures = sum(len(problems) for _name, problems in report or [])
    context = {
        **admin.site.each_context(request),
        "title": _("Reconciliation"),
        "report": report,
        "failures": failures,
    }
    return render(request, "admin/reconcile.html", context)


@require_safe
@permission_required("exchange.view_order", raise_exception=True)
def monitoring_view(request):
    context = {
        **admin.site.each_context(request),
        "title": _("Monitoring"),
        **operator_monitoring_context(params=request.GET, scope=scope_of(request.user)),
    }
    return render(request, "admin/monitoring.html", context)
