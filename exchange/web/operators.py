"""Operators' reconciliation page in the admin: runs every ledger and book invariant
(exchange.reconcile, the same checks as `manage.py reconcile`) and shows the report.
Read-only; staff only."""

from django.contrib import admin
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from exchange.reconcile import reconcile


@require_http_methods(["GET", "HEAD", "POST"])
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
