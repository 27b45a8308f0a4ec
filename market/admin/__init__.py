"""Operators' admin for the catalogue and the people, and for what operators do
(the audit trail, four-eyes proposals). Importing this package registers them all."""

from django.contrib import admin

from market.admin import (
    catalogue,
    notifications,
    operators,
    participants,
    tariffs,
)
from market.admin.base import OperatorAdmin, ReadOnlyAdmin, permission
from market.admin.catalogue import RegionAdmin
from market.admin.participants import ClusterAdmin
from market.lockout import AdminLoginForm

# The admin's login counts towards the same lockout as the web's.
admin.site.login_form = AdminLoginForm

__all__ = [
    "ClusterAdmin",
    "OperatorAdmin",
    "ReadOnlyAdmin",
    "RegionAdmin",
    "catalogue",
    "notifications",
    "operators",
    "participants",
    "permission",
    "tariffs",
]
