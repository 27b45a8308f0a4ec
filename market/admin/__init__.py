"""Operators' admin for the catalogue and the people, and for what operators do
(the audit trail, four-eyes proposals). Importing this package registers them all."""

from market.admin import catalogue, operators, participants, tariffs
from market.admin.base import OperatorAdmin, ReadOnlyAdmin, permission
from market.admin.participants import ClusterAdmin

__all__ = [
    "ClusterAdmin",
    "OperatorAdmin",
    "ReadOnlyAdmin",
    "catalogue",
    "operators",
    "participants",
    "permission",
    "tariffs",
]
