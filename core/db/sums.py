"""Sums of decimal columns that are exact on every backend."""

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import connections
from django.db.models import QuerySet, Sum

from core.db import vendor


def decimal_sums(queryset: QuerySet[Any], *, by: str, field: str) -> dict[Any, Decimal]:
    """The sum of the decimal `field` per value of `by` over `queryset`, exactly.
    PostgreSQL sums numerics exactly; SQLite would sum them as floats, so there the
    rows are added up here, each read back as the field's Decimal."""
    if vendor.sums_exactly(connections[queryset.db]):
        return dict(
            queryset.order_by().values_list(by).annotate(total=Sum(field)).order_by()
        )
    sums: dict[Any, Decimal] = defaultdict(Decimal)
    for key, amount in queryset.order_by().values_list(by, field).iterator():
        sums[key] += amount
    return dict(sums)
