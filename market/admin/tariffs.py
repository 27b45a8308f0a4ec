"""Time-of-use periods in admin: each region's peak, flat and valley hours and their
multipliers, with the notice they come from. Edited by supervisors like the rest of
the catalogue; each save writes an audit row."""

from django.contrib import admin

from market.admin.base import OperatorAdmin
from market.models import TariffPeriod


@admin.register(TariffPeriod)
class TariffPeriodAdmin(OperatorAdmin):
    list_display = [
        "region",
        "kind",
        "start_hour",
        "end_hour",
        "multiplier",
        "estimated",
    ]
    list_filter = ["kind", "estimated", "region"]
    search_fields = ["region__code", "source"]
    list_select_related = ["region"]
