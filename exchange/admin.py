"""Operators' view of the exchange. Operations (halt, resume, cancel, resize) are
admin actions, each with its own permission, that call operators' entry points (the
change and its audit row in one transaction), never edits of rows: Django admin
wraps its own saves in a transaction, and every change to a book must go through the
instrument's lock."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from exchange.models import Instrument, ListingPlan, Order, OrderEvent, Trade
from exchange.services.operators import (
    cluster_resize_by_operator,
    instrument_halt_by_operator,
    order_cancel_by_operator,
)
from exchange.services.regions import region_resume, region_suspend
from market.admin import (
    ClusterAdmin,
    OperatorAdmin,
    ReadOnlyAdmin,
    RegionAdmin,
    permission,
)
from market.admin.base import ReasonForm
from market.exceptions import DomainError
from market.models import Cluster, Region, RegionSuspension
from market.scopes import Lookups

# Orders of participants homed in the hub, and sells from its clusters.
ORDERS = Lookups(
    ("participant__home_region__hub", "region__hub"), ("participant__industry",)
)


@admin.register(Instrument)
class InstrumentAdmin(ReadOnlyAdmin):
    list_display = [
        "symbol",
        "profile",
        "delivery_start",
        "delivery_end",
        "state",
        "last_price",
        "best_bid",
        "best_ask",
        "reference_price",
        "price_band_pct",
        "product",
        "settlement_price",
        "sequence",
    ]
    list_filter = ["state", "profile", "product", "block", "listed_automatically"]
    search_fields = ["symbol"]
    date_hierarchy = "delivery_start"
    actions = ["halt", "resume"]
    has_halt_permission = permission("exchange.halt_instrument")

    def _set_halt(self, request, queryset, halted: bool) -> None:
        for instrument in queryset:
            try:
                instrument_halt_by_operator(
                    instrument_id=instrument.pk,
                    halted=halted,
                    operator=request.user,
                    reason=self.reason(request),
                )
            except DomainError as exc:
                self.message_user(
                    request, f"{instrument}: {exc.message}", messages.ERROR
                )
            else:
                self.message_user(
                    request,
                    _("%(s)s halted.") % {"s": instrument}
                    if halted
                    else _("%(s)s resumed.") % {"s": instrument},
                    messages.SUCCESS,
                )

    @admin.action(description=_("Halt trading"), permissions=["halt"])
    def halt(self, request, queryset):
        self._set_halt(request, queryset, True)

    @admin.action(description=_("Resume trading"), permissions=["halt"])
    def resume(self, request, queryset):
        self._set_halt(request, queryset, False)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    scope = ORDERS
    list_display = [
        "id",
        "instrument",
        "participant",
        "side",
        "type",
        "time_in_force",
        "price",
        "quantity",
        "filled_quantity",
        "remaining_quantity",
        "status",
        "cancel_reason",
        "region",
        "created_at",
    ]
    list_filter = [
        "status",
        "side",
        "type",
        "time_in_force",
        "instrument__profile",
        "region",
    ]
    search_fields = [
        "id",
        "client_order_id",
        "participant__display_name",
        "instrument__symbol",
    ]
    list_select_related = ["instrument", "participant", "region"]
    actions = ["cancel_orders"]
    has_cancel_permission = permission("exchange.cancel_order")

    @admin.action(description=_("Cancel the selected orders"), permissions=["cancel"])
    def cancel_orders(self, request, queryset):
        done = 0
        for order in queryset.order_by("pk"):
            try:
                order_cancel_by_operator(
                    order_id=order.pk,
                    operator=request.user,
                    reason=self.reason(request),
                )
                done += 1
            except DomainError as exc:
                self.message_user(
                    request, f"#{order.pk}: {exc.message}", messages.WARNING
                )
        self.message_user(request, _("%d orders cancelled.") % done, messages.SUCCESS)


@admin.register(Trade)
class TradeAdmin(ReadOnlyAdmin):
    scope = Lookups(
        ("sell_region__hub", "buyer__home_region__hub", "seller__home_region__hub"),
        ("buyer__industry", "seller__industry"),
    )
    list_display = [
        "id",
        "instrument",
        "buyer",
        "seller",
        "price",
        "surcharge",
        "all_in_price",
        "quantity",
        "aggressor",
        "sell_region",
        "buy_region",
        "executed_at",
    ]
    list_filter = ["instrument__profile", "aggressor", "sell_region", "buy_region"]
    search_fields = [
        "id",
        "instrument__symbol",
        "buyer__display_name",
        "seller__display_name",
    ]
    list_select_related = ["instrument", "buyer", "seller", "sell_region", "buy_region"]
    date_hierarchy = "executed_at"


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    scope = ORDERS.prefixed("order")
    list_display = ["instrument", "sequence", "kind", "order", "created_at"]
    list_filter = ["kind", "instrument__profile"]
    search_fields = ["instrument__symbol", "order__id"]
    list_select_related = ["instrument", "order"]


class ResizeForm(ReasonForm):
    count = forms.IntegerField(min_value=1, label=_("new chip count"))

    field_order = ["count", "reason"]


admin.site.unregister(Cluster)


@admin.register(Cluster)
class CommittedClusterAdmin(ClusterAdmin):
    """A cluster's count is changed only by the resize action, which refuses to drop
    it below what sell orders have committed."""

    actions = ["resize", "verify"]
    has_resize_permission = permission("market.resize_cluster")

    def get_readonly_fields(self, request, obj=None):
        fixed = super().get_readonly_fields(request, obj)
        return [*fixed, "count"] if obj is not None else fixed

    @admin.action(description=_("Resize the selected clusters"), permissions=["resize"])
    def resize(self, request, queryset):
        form = self.form_for_action(request, ResizeForm)
        if not form.is_bound or not form.is_valid():
            return self.action_page(
                request,
                queryset,
                form,
                action="resize",
                title=_("Resize clusters"),
                submit=_("Resize"),
            )
        for cluster in queryset:
            try:
                cluster_resize_by_operator(
                    cluster_id=cluster.pk,
                    count=form.cleaned_data["count"],
                    operator=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                self.message_user(
                    request, f"{cluster.name}: {exc.message}", messages.ERROR
                )
            else:
                self.message_user(
                    request, _("%s resized.") % cluster.name, messages.SUCCESS
                )
        return None


admin.site.unregister(Region)


@admin.register(Region)
class SuspendableRegionAdmin(RegionAdmin):
    """Suspend a region (a power shortage, a network fault: its resting sells are
    cancelled, sells there and buys from there refused) or resume it."""

    actions = ["suspend", "resume"]
    has_suspend_permission = permission("market.suspend_region")

    def get_list_display(self, request):
        return [*super().get_list_display(request), "suspended"]

    @admin.display(description=_("suspended"), boolean=True)
    def suspended(self, region):
        return region.suspensions.filter(ended_at__isnull=True).exists()

    @admin.action(
        description=_("Suspend trading in the region"), permissions=["suspend"]
    )
    def suspend(self, request, queryset):
        form = self.form_for_action(request, ReasonForm)
        if not form.is_bound or not form.is_valid():
            return self.action_page(
                request,
                queryset,
                form,
                action="suspend",
                title=_("Suspend regions"),
                submit=_("Suspend"),
            )
        for region in queryset:
            try:
                _suspension, cancelled = region_suspend(
                    region=region.code,
                    reason=form.cleaned_data["reason"],
                    operator=request.user,
                )
            except DomainError as exc:
                self.message_user(request, f"{region}: {exc.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(region)s suspended: %(n)d sells cancelled.")
                    % {"region": region, "n": len(cancelled)},
                    messages.SUCCESS,
                )
        return None

    @admin.action(
        description=_("Resume trading in the region"), permissions=["suspend"]
    )
    def resume(self, request, queryset):
        for region in queryset:
            try:
                region_resume(
                    region=region.code,
                    operator=request.user,
                    reason=self.reason(request),
                )
            except DomainError as exc:
                self.message_user(request, f"{region}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, _("%s resumed.") % region, messages.SUCCESS)


@admin.register(RegionSuspension)
class RegionSuspensionAdmin(ReadOnlyAdmin):
    """The suspensions, past and current (settlement reads them for force
    majeure): the regions' actions make them."""

    list_display = [
        "region",
        "reason",
        "started_at",
        "started_by",
        "ended_at",
        "ended_by",
    ]
    list_filter = ["region__hub", "region"]
    list_select_related = ["region", "started_by", "ended_by"]
    date_hierarchy = "started_at"


@admin.register(ListingPlan)
class ListingPlanAdmin(OperatorAdmin):
    """A profile's day and blocks, listed by the scheduler from its next run on
    (what is listed already stays). Saves write audit rows."""

    list_display = ["profile", "list_day", "blocks", "updated_at"]
    list_select_related = ["profile"]
