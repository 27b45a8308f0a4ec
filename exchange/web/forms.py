"""Forms of the trading pages: the order ticket (bids and asks) and the filters of
the market pages. The ticket checks the grid, the combinations and the price band
itself, so most mistakes get their message beside the field before any service
runs; what only the services can know (funds, capacity, FOK) comes back as form
errors too (exchange/web/ticket.py)."""

import uuid
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from exchange.models import Instrument, Order
from exchange.services import bands
from exchange.services.requests import OrderRequest
from market.display import local_name
from market.models import (
    Certification,
    ChipModel,
    Cluster,
    Participant,
    Region,
    SoftwareStack,
)
from market.web.forms import DescribedFields, region_field, text_decimal

MAX_QUANTITY = Decimal("1000000000")
MAX_PRICE = Decimal("1000000")
TIF_CHOICES = [
    ("GTC", _("GTC · good till cancelled")),
    ("GTD", _("GTD · good till date")),
    ("IOC", _("IOC · immediate or cancel")),
    ("FOK", _("FOK · fill or kill")),
]
TYPE_CHOICES = [("limit", _("Limit")), ("market", _("Market"))]
BUY_ONLY = (
    "region",
    "stacks",
    "max_latency_ms",
    "min_green_pct",
    "residency_zone",
    "chips",
    "vendors",
    "min_memory_gb",
    "confidential",
    "certifications",
    "min_reliability",
)
SELL_ONLY = ("cluster",)


def new_client_order_id() -> str:
    """One per rendered ticket: a resubmitted form places its order once."""
    return f"web-{uuid.uuid4().hex}"


class OrderTicketForm(DescribedFields, forms.Form):
    type = forms.ChoiceField(label=_("Order type"), choices=TYPE_CHOICES)
    time_in_force = forms.ChoiceField(label=_("Time in force"), choices=TIF_CHOICES)
    # No decimal_places here: the instrument's tick and lot say what is on the grid,
    # and clean_price/clean_quantity say so in the market's words.
    price = forms.DecimalField(
        label=_("Limit price (CNY/SCU-h)"),
        required=False,
        min_value=Decimal("0.01"),
        max_value=MAX_PRICE,
        widget=text_decimal(),
    )
    quantity = forms.DecimalField(
        label=_("Quantity (SCU-h)"),
        min_value=Decimal("0.1"),
        max_value=MAX_QUANTITY,
        widget=text_decimal(),
    )
    post_only = forms.BooleanField(label=_("Post-only"), required=False)
    expires_at = forms.DateTimeField(
        label=_("Expires at"),
        required=False,
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
    )
    client_order_id = forms.CharField(widget=forms.HiddenInput, max_length=64)
    # Buys
    region = region_field(_("Deliver to (origin region)"))
    stacks = forms.MultipleChoiceField(
        label=_("Software stacks"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    max_latency_ms = forms.IntegerField(
        label=_("Max latency (ms)"),
        required=False,
        min_value=0,
        max_value=100_000,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    min_green_pct = forms.DecimalField(
        label=_("Min green-power share (%)"),
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(100),
        max_digits=5,
        decimal_places=2,
        widget=text_decimal(),
    )
    residency_zone = forms.ChoiceField(label=_("Data residency"), required=False)
    chips = forms.MultipleChoiceField(
        label=_("Chips"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text=_("Only these chip models; none chosen: any."),
    )
    vendors = forms.MultipleChoiceField(
        label=_("Vendors"), required=False, widget=forms.CheckboxSelectMultiple
    )
    min_memory_gb = forms.IntegerField(
        label=_("Min memory per chip (GB)"),
        required=False,
        min_value=1,
        max_value=100_000,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    confidential = forms.BooleanField(
        label=_("Confidential computing (TEE) required"),
        required=False,
        help_text=_("Only clusters whose TEE an operator has verified."),
    )
    certifications = forms.MultipleChoiceField(
        label=_("Certifications (all required)"),
        required=False,
        choices=Certification.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    min_reliability = forms.DecimalField(
        label=_("Min provider reliability (0 to 1)"),
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(1),
        max_digits=3,
        decimal_places=2,
        widget=text_decimal(),
    )
    # Sells
    cluster = forms.TypedChoiceField(label=_("Cluster"), coerce=int)

    def __init__(
        self,
        *args,
        side: str,
        instrument: Instrument,
        participant: Participant,
        clusters: list[Cluster] | None = None,
        **kwargs,
    ) -> None:
        kwargs.setdefault("prefix", side)
        super().__init__(*args, **kwargs)
        self.side, self.instrument, self.participant = side, instrument, participant
        for name in SELL_ONLY if side == Order.Side.BUY else BUY_ONLY:
            del self.fields[name]
        if side == Order.Side.BUY:
            self._buy_fields()
        else:
            self.fields["price"].label = _("Ask price at your site (CNY/SCU-h)")
            self.fields["cluster"].choices = [
                (c.pk, f"{c.name} · {c.count} × {c.chip.model} · {c.region.code}")  # noqa: RUF001
                for c in clusters or []
            ]
        self.fields["client_order_id"].initial = new_client_order_id()
        self.describe_fields()

    def _buy_fields(self) -> None:
        self.fields["price"].label = _("Limit price, all-in (CNY/SCU-h)")
        self.fields["region"].initial = self.participant.home_region.code
        self.fields["stacks"].choices = [
            (s.code, s.code) for s in SoftwareStack.objects.order_by("code")
        ]
        zones = Region.objects.order_by("residency_zone").values_list(
            "residency_zone", flat=True
        )
        self.fields["residency_zone"].choices = [("", _("Any"))] + [
            (z, z) for z in dict.fromkeys(zones)
        ]
        chips = list(ChipModel.objects.order_by("vendor", "model"))
        self.fields["chips"].choices = [(c.code, chip_label(c)) for c in chips]
        self.fields["vendors"].choices = [
            (v, v) for v in sorted({c.vendor for c in chips})
        ]

    # --- checks --------------------------------------------------------------------
    def clean_price(self):
        price, tick = self.cleaned_data["price"], self.instrument.tick_size
        if price is None:
            return None
        if price % tick:
            raise forms.ValidationError(
                _("Prices go in steps of %(tick)s CNY.") % {"tick": tick}
            )
        return price.quantize(tick)

    def clean_quantity(self):
        quantity, lot = self.cleaned_data["quantity"], self.instrument.lot_size
        if quantity % lot:
            raise forms.ValidationError(
                _("Quantities go in steps of %(lot)s SCU-h.") % {"lot": lot}
            )
        return quantity.quantize(lot)

    def clean(self):
        data = super().clean()
        market = data.get("type") == Order.Type.MARKET
        tif = data.get("time_in_force")
        if market and tif not in ("IOC", "FOK"):
            self.add_error(
                "time_in_force", _("A market order is IOC or FOK: it never rests.")
            )
        if data.get("post_only") and (market or tif in ("IOC", "FOK")):
            self.add_error(
                "post_only", _("Post-only orders rest in the book: limit, GTC or GTD.")
            )
        if not market and "price" in data and data["price"] is None:
            self.add_error("price", _("A limit order needs a price."))
        if tif == "GTD":
            expires = data.get("expires_at")
            if expires is None:
                self.add_error("expires_at", _("A GTD order needs an expiry time."))
            elif expires <= timezone.now():
                self.add_error("expires_at", _("Choose a time in the future."))
        else:
            data["expires_at"] = None
        if data.get("price") is not None and not self.errors.get("price"):
            self._check_band(data)
        return data

    def origin(self) -> Region:
        if self.side == Order.Side.SELL:
            cluster = self.chosen_cluster()
            return cluster.region if cluster else self.participant.home_region
        return self.cleaned_data.get("region") or self.participant.home_region

    def _check_band(self, data: dict) -> None:
        limits = bands.side_limits(self.instrument, self.side, self.origin())
        if limits is None or limits[0] <= data["price"] <= limits[1]:
            return
        self.add_error("price", band_message(self.side, limits))

    def chosen_cluster(self) -> Cluster | None:
        cluster_id = getattr(self, "cleaned_data", {}).get("cluster")
        return (
            Cluster.objects.select_related("region", "chip__stack")
            .filter(pk=cluster_id, participant=self.participant)
            .first()
        )

    # --- the request ---------------------------------------------------------------
    def constraints(self) -> dict | None:
        data = self.cleaned_data
        out: dict = {}
        if data.get("stacks"):
            out["stacks"] = list(data["stacks"])
        if data.get("max_latency_ms") is not None:
            out["max_latency_ms"] = data["max_latency_ms"]
        if data.get("min_green_pct") is not None:
            out["min_green_share"] = (data["min_green_pct"] / 100).quantize(
                Decimal("0.0001")
            )
        if data.get("residency_zone"):
            out["residency_zone"] = data["residency_zone"]
        for name in ("chips", "vendors", "certifications"):
            if data.get(name):
                out[name] = list(data[name])
        if data.get("min_memory_gb") is not None:
            out["min_memory_gb"] = data["min_memory_gb"]
        if data.get("confidential"):
            out["confidential"] = True
        if data.get("min_reliability") is not None:
            out["min_reliability"] = data["min_reliability"]
        return out or None

    def order_request(self) -> OrderRequest:
        data = self.cleaned_data
        buy = self.side == Order.Side.BUY
        return OrderRequest(
            instrument=self.instrument.symbol,
            side=self.side,
            quantity=data["quantity"],
            type=data["type"],
            time_in_force=data["time_in_force"],
            post_only=bool(data.get("post_only")),
            price=data.get("price"),
            client_order_id=data["client_order_id"],
            expires_at=data.get("expires_at"),
            cluster=None if buy else data["cluster"],
            region=data["region"].code if buy else None,
            constraints=self.constraints() if buy else None,
        )


def chip_label(chip: ChipModel) -> str:
    """A chip as a buyer picks it: vendor, model and memory per chip."""
    if chip.memory_gb is None:
        return f"{chip.vendor} {chip.model}"
    return f"{chip.vendor} {chip.model} · {chip.memory_gb.normalize()} GB"


def band_message(side: str, limits: tuple[Decimal, Decimal]) -> str:
    if side == Order.Side.BUY:
        return _(
            "Outside the price band: an all-in bid must lie from %(lo)s to %(hi)s."
        ) % {"lo": limits[0], "hi": limits[1]}
    return _("Outside the price band: an ask must lie from %(lo)s to %(hi)s.") % {
        "lo": limits[0],
        "hi": limits[1],
    }


class ViewerForm(forms.Form):
    """Whose point of view the market pages take: a region (all-in prices into it)
    and, on the overview, a workload profile."""

    region = forms.ChoiceField(label=_("Your region"), required=False)
    profile = forms.ChoiceField(label=_("Workload profile"), required=False)

    def __init__(self, *args, regions: list[Region], profiles, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [
            (r.code, f"{local_name(r)} ({r.code})") for r in regions
        ]
        self.fields["profile"].choices = [(p.code, local_name(p)) for p in profiles]


class MonitoringForm(forms.Form):
    """The scope of the monitoring view: delivery windows ending in the last N days
    or later, of one workload profile or all."""

    DAYS = (7, 30, 90, 365)

    profile = forms.ChoiceField(label=_("Workload profile"), required=False)
    days = forms.TypedChoiceField(
        label=_("Delivery windows"),
        coerce=int,
        required=False,
        choices=[
            (7, _("last 7 days and ahead")),
            (30, _("last 30 days and ahead")),
            (90, _("last 90 days and ahead")),
            (365, _("last 365 days and ahead")),
        ],
    )

    def __init__(self, *args, profiles, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["profile"].choices = [("", _("All profiles"))] + [
            (p.code, local_name(p)) for p in profiles
        ]

    def scope(self) -> tuple[int, str | None]:
        """(days, profile code or None); an invalid choice falls back to the
        default rather than failing the page."""
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("days") or 30, data.get("profile") or None


class ClusterDeclareForm(forms.Form):
    """What a provider changes of its cluster: the chip count (never below what
    its sells commit) and what it declares, which an operator then checks."""

    count = forms.IntegerField(
        label=_("Chip count"),
        min_value=1,
        max_value=1_000_000,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    confidential = forms.BooleanField(
        label=_("Confidential computing (TEE)"),
        required=False,
        help_text=_(
            "NVIDIA confidential computing, Hygon CSV, Intel TDX, Ascend TEE: "
            "checked by an operator before sells carry it."
        ),
    )
    certifications = forms.MultipleChoiceField(
        label=_("Certifications"),
        required=False,
        choices=Certification.choices,
        widget=forms.CheckboxSelectMultiple,
    )
