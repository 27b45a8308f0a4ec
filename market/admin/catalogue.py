"""The catalogue in admin: every model with list filters and search. Published
tables are read-only; publishing one is a proposal a second operator approves."""

from django import forms
from django.contrib import admin
from django.db import transaction
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from market import operations
from market.admin.base import OperatorAdmin, ReadOnlyAdmin, ReasonForm, permission
from market.admin.operators import proposal_made
from market.exceptions import DomainError
from market.models import (
    BenchmarkFactor,
    ChipModel,
    ConversionFactor,
    ConversionTable,
    Hub,
    NetworkLink,
    Region,
    SoftwareStack,
    Surcharge,
    SurchargeTable,
    WorkloadProfile,
)


@admin.register(Hub)
class HubAdmin(OperatorAdmin):
    list_display = ["code", "name_en", "name_zh"]
    search_fields = ["code", "name_en", "name_zh"]


@admin.register(Region)
class RegionAdmin(OperatorAdmin):
    list_display = [
        "code",
        "name_en",
        "name_zh",
        "hub",
        "role",
        "electricity_price_cny_per_kwh",
        "carbon_intensity_kg_per_kwh",
        "green_share",
        "pue",
        "residency_zone",
    ]
    list_filter = ["role", "hub", "residency_zone"]
    search_fields = ["code", "name_en", "name_zh", "province"]


@admin.register(NetworkLink)
class NetworkLinkAdmin(OperatorAdmin):
    list_display = ["__str__", "latency_ms", "transfer_cny_per_gb", "derived"]
    list_filter = ["derived", "from_region", "to_region"]
    search_fields = ["from_region__code", "to_region__code"]
    list_select_related = ["from_region", "to_region"]

    def save_model(self, request, obj, form, change):
        # An operator's value is no longer a derived default: derive_links keeps it.
        obj.derived = False
        super().save_model(request, obj, form, change)


@admin.register(SoftwareStack)
class SoftwareStackAdmin(OperatorAdmin):
    list_display = ["code", "name", "vendor"]
    search_fields = ["code", "name", "vendor"]


@admin.register(ChipModel)
class ChipModelAdmin(OperatorAdmin):
    list_display = [
        "code",
        "vendor",
        "model",
        "kind",
        "stack",
        "memory_gb",
        "memory_bandwidth_gbs",
        "fp64_tflops",
        "bf16_tflops",
        "fp16_tflops",
        "int8_tops",
        "tdp_w",
    ]
    list_filter = ["kind", "vendor", "stack"]
    search_fields = ["code", "vendor", "model"]


@admin.register(WorkloadProfile)
class WorkloadProfileAdmin(OperatorAdmin):
    list_display = [
        "code",
        "name_en",
        "name_zh",
        "chip_kind",
        "reference_chip",
        "primary_weight",
        "data_intensity_gb_per_scu_h",
    ]
    list_filter = ["chip_kind"]
    search_fields = ["code", "name_en", "name_zh"]


class ConversionFactorInline(admin.TabularInline):
    model = ConversionFactor
    fields = ["profile", "chip", "factor", "estimated", "source", "missing_metrics"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class PublishForm(ReasonForm):
    notes = forms.CharField(label=_("Notes"), required=False, max_length=1000)
    surcharges = forms.BooleanField(
        label=_("Also publish surcharge tables from the current links"),
        required=False,
    )

    field_order = ["notes", "surcharges", "reason"]


@admin.register(ConversionTable)
class ConversionTableAdmin(ReadOnlyAdmin):
    """Publishing is a proposal (four-eyes), made on the publish page or with
    `manage.py publish_conversion_table --operator`."""

    list_display = ["version", "effective_at", "published_at", "published_by"]
    search_fields = ["notes"]
    list_filter = ["published_at"]
    inlines = [ConversionFactorInline]
    has_publish_permission = permission("market.publish_conversiontable")

    def get_urls(self):
        return [
            path(
                "publish/",
                self.admin_site.admin_view(self.publish_view),
                name="market_conversiontable_publish",
            ),
            *super().get_urls(),
        ]

    def publish_view(self, request):
        self.require(request, "publish")
        form = PublishForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic(durable=True):
                    proposal = operations.tables_publication_propose(
                        operator=request.user, now=timezone.now(), **form.cleaned_data
                    )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                return proposal_made(self, request, proposal)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": _("Propose publishing a new conversion table"),
        }
        return render(request, "admin/market/publish.html", context)


@admin.register(ConversionFactor)
class ConversionFactorAdmin(ReadOnlyAdmin):
    list_display = ["table", "profile", "chip", "factor", "estimated", "source"]
    list_filter = ["table", "profile", "estimated", "source", "chip__vendor"]
    search_fields = ["chip__code", "chip__model"]
    list_select_related = ["table", "profile", "chip"]


@admin.register(BenchmarkFactor)
class BenchmarkFactorAdmin(OperatorAdmin):
    list_display = ["chip", "profile", "factor", "entered_by", "entered_at"]
    list_filter = ["profile"]
    search_fields = ["chip__code", "source"]
    readonly_fields = ["entered_by", "entered_at"]

    def save_model(self, request, obj, form, change):
        obj.entered_by = request.user
        super().save_model(request, obj, form, change)


class SurchargeInline(admin.TabularInline):
    model = Surcharge
    fields = ["sell_region", "buy_region", "surcharge", "latency_ms"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SurchargeTable)
class SurchargeTableAdmin(ReadOnlyAdmin):
    list_display = ["profile", "version", "effective_at", "published_at"]
    list_filter = ["profile"]
    search_fields = ["profile__code"]
    inlines = [SurchargeInline]
