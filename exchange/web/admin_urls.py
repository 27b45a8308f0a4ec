"""The operators' pages added to the admin (mounted before admin.site.urls, whose
catch-all would otherwise answer them)."""

from django.contrib import admin
from django.urls import path

from exchange.web.operators import reconcile_view

urlpatterns = [
    path("", admin.site.admin_view(reconcile_view), name="admin-reconcile"),
]
