"""Operators' catalogue admin: every model with list filters and search.

Published tables are read-only here; publishing is an admin action that calls the same
service as `manage.py publish_conversion_table`.
"""

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from market import services
from market.apikeys import apikey_revoke
from market.models import (
    ApiKey,
    BenchmarkFactor,
    ChipModel,
    Cluster,
    ConversionFactor,
    ConversionTable,
    Hub,
    NetworkLink,
    Participant,
    Region,
    SoftwareStack,
    Surcharge,
    SurchargeTable,
    WorkloadProfile,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Published rows: visible, never editable."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Hub)
class HubAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_zh"]
    search_fields = ["code", "name_en", "name_zh"]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
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
class NetworkLinkAdmin(admin.ModelAdmin):
    list_display = ["__str__", "latency_ms", "transfer_cny_per_gb", "derived"]
    list_filter = ["derived", "from_region", "to_region"]
    search_fields = ["from_region__code", "to_region__code"]
    list_select_related = ["from_region", "to_region"]

    def save_model(self, request, obj, form, change):
        # An operator's value is no longer a derived default: derive_links keeps it.
        obj.derived = False
        super().save_model(request, obj, form, change)


@admin.register(SoftwareStack)
class SoftwareStackAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "vendor"]
    search_fields = ["code", "name", "vendor"]


@admin.register(ChipModel)
class ChipModelAdmin(admin.ModelAdmin):
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
class WorkloadProfileAdmin(admin.ModelAdmin):
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


@admin.register(ConversionTable)
class ConversionTableAdmin(ReadOnlyAdmin):
    list_display = ["version", "effective_at", "published_at", "published_by"]
    search_fields = ["notes"]
    list_filter = ["published_at"]
    actions = ["publish_new_version"]
    inlines = [ConversionFactorInline]

    @admin.action(description=_("Publish a new conversion table from the catalogue"))
    def publish_new_version(self, request, queryset):
        with transaction.atomic(durable=True):
            table = services.conversion_table_publish(published_by=request.user)
        self.message_user(
            request,
            _("Published conversion table v%d.") % table.version,
            messages.SUCCESS,
        )

    def changelist_view(self, request, extra_context=None):
        # The publish action needs no selection: it acts on the catalogue.
        if request.POST.get("action") == "publish_new_version":
            post = request.POST.copy()
            post.setlist(admin.helpers.ACTION_CHECKBOX_NAME, ["0"])
            request.POST = post
        return super().changelist_view(request, extra_context)


@admin.register(ConversionFactor)
class ConversionFactorAdmin(ReadOnlyAdmin):
    list_display = ["table", "profile", "chip", "factor", "estimated", "source"]
    list_filter = ["table", "profile", "estimated", "source", "chip__vendor"]
    search_fields = ["chip__code", "chip__model"]
    list_select_related = ["table", "profile", "chip"]


@admin.register(BenchmarkFactor)
class BenchmarkFactorAdmin(admin.ModelAdmin):
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


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = [
        "display_name",
        "user",
        "is_buyer",
        "is_seller",
        "home_region",
        "is_network_operator",
        "created_at",
    ]
    list_filter = ["is_buyer", "is_seller", "is_network_operator", "home_region"]
    search_fields = ["display_name", "user__username", "user__email"]
    list_select_related = ["user", "home_region"]


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    list_display = ["name", "participant", "region", "chip", "count", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # Orders refer to a cluster's site and chip: they never change once it exists.
        return ["participant", "region", "chip"] if obj is not None else []

    list_filter = ["region", "chip__stack", "chip__vendor"]
    search_fields = ["name", "participant__display_name", "chip__code"]
    list_select_related = ["participant", "region", "chip"]


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    """Keys are created by their owners (shown once, stored hashed); operators see
    who has which key and revoke a compromised one."""

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

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        for api_key in queryset.select_related("user"):
            apikey_revoke(user=api_key.user, key_id=api_key.pk)
        self.message_user(
            request,
            _("%(count)d key(s) revoked.") % {"count": queryset.count()},
            messages.SUCCESS,
        )
