"""The order ticket's live preview and its refusals in plain words.

Buy preview: the hold the bid needs (qty x limit + the fee at the larger of the maker
and taker rates, rounded up, as settlement will hold it), and for every region linked
to the origin whether its sellers could meet the limit: the highest site price that
still fits under it (limit - surcharge), the best resting ask there that the bid's
constraints allow, and the constraint (latency, green share, residency) that rules
the region out; within a region, per chip (and TEE, certifications, provider
reliability), the constraint that rules those asks out (`exchange.eligibility`).

Sell preview: the bond, the chips the ask commits against what the cluster has free
in the window, and the all-in price buyers in each linked region would pay.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import Max
from django.utils.translation import gettext as _

from exchange import eligibility
from exchange.exceptions import (
    ClientOrderIdConflict,
    ClusterNotVerified,
    FokNotFillable,
    InstrumentNotOpen,
    InsufficientCapacity,
    InvalidOrder,
    PermissionDenied,
    PostOnlyWouldCross,
    PriceOutOfBand,
    PriceRequired,
)
from exchange.models import Instrument, Order
from exchange.selectors import resting_orders
from exchange.services import bands, capacity
from exchange.services.capacity import committed_chips
from exchange.services.constraints import constraints_resolve
from exchange.web.forms import OrderTicketForm, band_message
from market.exceptions import DomainError, NoConversionFactor
from market.models import Cluster, Participant, Region, Surcharge
from settlement import interface as settlement


@dataclass
class ChipRow:
    """Asks of one chip and attribute signature in a region, and what in the bid's
    constraints rules them out (empty: allowed)."""

    group: eligibility.AskGroup
    reasons: list[str]


@dataclass
class RegionRow:
    region: Region
    surcharge: Decimal
    latency_ms: Decimal
    max_site_price: Decimal | None = None  # buys: limit - surcharge
    best_price: Decimal | None = None  # buys: best ask here; sells: best bid there
    best_all_in: Decimal | None = None
    quantity: Decimal = Decimal(0)  # buys: SCU-h asked here at or under the fit
    reasons: list[str] = field(default_factory=list)
    chips: list[ChipRow] = field(default_factory=list)  # buys: asks here by chip

    @property
    def excluded(self) -> bool:
        return bool(self.reasons)


@dataclass
class Preview:
    side: str
    price: Decimal | None
    quantity: Decimal
    money_needed: Decimal | None = None  # the buy's hold or the sell's bond
    notional: Decimal | None = None
    fee_bps: int = 0
    fee: Decimal | None = None
    available: Decimal = Decimal(0)
    rows: list[RegionRow] = field(default_factory=list)
    unlinked: int = 0
    chips_needed: Decimal | None = None
    chips_free: Decimal | None = None
    cluster: Cluster | None = None
    problem: str = ""

    @property
    def enough_money(self) -> bool:
        return self.money_needed is None or self.money_needed <= self.available

    @property
    def serving(self) -> list[RegionRow]:
        return [r for r in self.rows if not r.excluded and r.max_site_price]

    @property
    def fills_now(self) -> list[RegionRow]:
        return [r for r in self.rows if not r.excluded and r.quantity > 0]


def _available(participant: Participant) -> Decimal:
    return settlement.available_balance(participant.pk)


def _order_price(form: OrderTicketForm, data: dict) -> Decimal | None:
    """The limit, or a market order's protection price (the band's edge)."""
    if data.get("type") != Order.Type.MARKET:
        return data.get("price")
    try:
        return bands.protection_price(
            form.instrument, form.side, data.get("price"), form.origin()
        )
    except PriceRequired:
        return None


def preview(form: OrderTicketForm) -> Preview | None:
    """What the ticket as typed would need and reach; None until price and
    quantity parse."""
    data = getattr(form, "cleaned_data", {})
    quantity = data.get("quantity")
    if not quantity:
        return None
    price = _order_price(form, data)
    result = Preview(form.side, price, quantity, available=_available(form.participant))
    inst = form.instrument
    result.fee_bps = max(inst.maker_fee_bps, inst.taker_fee_bps)
    if price is None:
        result.problem = _(
            "No price band yet: a market order needs a price as its protection."
        )
        return result
    if form.side == Order.Side.BUY:
        _buy(result, form, data)
    else:
        _sell(result, form)
    return result


def _need(side: str, inst: Instrument, quantity: Decimal, price: Decimal) -> Decimal:
    """What placing the order would set aside (settlement's rule)."""
    return settlement.order_need(
        side=side,
        quantity=quantity,
        price=price,
        maker_bps=inst.maker_fee_bps,
        taker_bps=inst.taker_fee_bps,
        bond_rate=inst.bond_rate,
    )


def _buy(result: Preview, form: OrderTicketForm, data: dict) -> None:
    inst, limit = form.instrument, result.price
    result.money_needed = _need(Order.Side.BUY, inst, result.quantity, limit)
    result.notional = settlement.amount(result.quantity * limit)
    result.fee = result.money_needed - result.notional
    origin = form.origin()
    links = Surcharge.objects.filter(
        table_id=inst.surcharge_table_id, buy_region=origin
    ).select_related("sell_region")
    constraints = form.constraints() or {}
    by_region = _ask_groups(form, constraints, origin)
    for link in links:
        row = RegionRow(link.sell_region, link.surcharge, link.latency_ms)
        row.reasons = _exclusions(link, constraints)
        fit = limit - link.surcharge
        row.max_site_price = fit if fit > 0 else None
        row.chips = by_region.get(link.sell_region.code, [])
        allowed = [chip.group for chip in row.chips if not chip.reasons]
        levels = sorted(level for group in allowed for level in group.levels)
        if levels:
            row.best_price = levels[0][0]
            row.best_all_in = row.best_price + link.surcharge
            row.quantity = sum((q for p, q in levels if p <= fit), Decimal(0))
        result.rows.append(row)
    result.rows.sort(key=_buy_rank)
    result.unlinked = Region.objects.count() - len(result.rows)


# What rules out a region as a whole (shown on its row) rather than some of its asks.
REGION_RULES = eligibility.REGION_RULES


def _ask_groups(form: OrderTicketForm, constraints: dict, origin: Region) -> dict:
    """Others' resting asks by region, per chip and attribute signature, each with
    the constraints that rule it out, in plain words."""
    try:
        resolved = constraints_resolve(constraints)
    except InvalidOrder:
        resolved = {}  # the form shows what is wrong; preview as unconstrained
    groups = eligibility.explained(
        form.instrument,
        resolved,
        origin,
        excluding_participant_id=form.participant.pk,
    )
    out: dict[str, list[ChipRow]] = {}
    for group in groups:
        group.reasons = [r for r in group.reasons if r not in REGION_RULES]
        texts = eligibility.reason_texts(group, resolved)
        out.setdefault(group.region, []).append(ChipRow(group, texts))
    for rows in out.values():
        rows.sort(key=lambda c: (bool(c.reasons), c.group.best_price))
    return out


def _buy_rank(row: RegionRow):
    best = row.best_all_in if row.best_all_in is not None else Decimal("Infinity")
    return (row.excluded, best, row.surcharge, row.region.code)


def _exclusions(link: Surcharge, constraints: dict) -> list[str]:
    region, reasons = link.sell_region, []
    max_latency = constraints.get("max_latency_ms")
    if max_latency is not None and link.latency_ms > max_latency:
        reasons.append(
            _("latency %(ms)s ms is over %(max)s")
            % {"ms": link.latency_ms.normalize(), "max": max_latency}
        )
    min_green = constraints.get("min_green_share")
    if min_green is not None:
        if region.green_share is None:
            reasons.append(_("green-power share unknown"))
        elif region.green_share < Decimal(min_green):
            reasons.append(
                _("green power %(pct)s%% is under the minimum")
                % {"pct": (region.green_share * 100).quantize(Decimal("0.1"))}
            )
    zone = constraints.get("residency_zone")
    if zone and region.residency_zone != zone:
        reasons.append(_("outside residency zone %(zone)s") % {"zone": zone})
    return reasons


def _sell(result: Preview, form: OrderTicketForm) -> None:
    inst, price = form.instrument, result.price
    result.money_needed = _need(Order.Side.SELL, inst, result.quantity, price)
    result.fee = settlement.fee(
        settlement.amount(result.quantity * price), result.fee_bps
    )
    cluster = result.cluster = form.chosen_cluster()
    if cluster is None:
        return
    try:
        factor = capacity.factor_for(cluster=cluster, instrument=inst)
    except NoConversionFactor:
        result.problem = no_factor_message()
        return
    result.chips_needed = committed_chips(result.quantity, factor, inst.hours)
    used = capacity.peak_commitment(
        cluster=cluster, start=inst.delivery_start, end=inst.delivery_end
    )
    result.chips_free = max(cluster.sellable_count - used, Decimal(0))
    bids = dict(
        resting_orders(inst, Order.Side.BUY)
        .exclude(participant=form.participant)
        .values("region__code")
        .annotate(best=Max("price"))
        .values_list("region__code", "best")
    )
    for link in Surcharge.objects.filter(
        table_id=inst.surcharge_table_id, sell_region=cluster.region
    ).select_related("buy_region"):
        row = RegionRow(link.buy_region, link.surcharge, link.latency_ms)
        row.best_all_in = price + link.surcharge
        row.best_price = bids.get(link.buy_region.code)
        if row.best_price is not None and row.best_price >= row.best_all_in:
            row.quantity = result.quantity
        result.rows.append(row)
    result.rows.sort(key=lambda r: (r.surcharge, r.region.code))


def no_factor_message() -> str:
    return _(
        "This cluster's chip has no conversion factor for this workload profile, "
        "so it cannot sell this instrument."
    )


def hush_untouched(form: OrderTicketForm) -> None:
    """In the live preview, a field the user has not filled in yet shows no error
    (the submit still does)."""
    for name in list(form.errors):
        if name == NON_FIELD_ERRORS:
            continue
        if not str(form.data.get(form.add_prefix(name), "")).strip():
            del form.errors[name]


# --- refusals ----------------------------------------------------------------------
def explain(exc: DomainError, form: OrderTicketForm) -> None:
    """Put a service's refusal on the form, in the user's language, beside the
    field it concerns (or above the ticket)."""
    data = form.cleaned_data
    if isinstance(exc, settlement.InsufficientFunds):
        shown = preview(form)
        what = _("hold") if form.side == Order.Side.BUY else _("bond")
        form.add_error(
            None,
            _(
                "Not enough available funds: this order needs a %(what)s of "
                "%(need)s CNY and %(available)s CNY is available. Deposit more, or "
                "lower the price or quantity."
            )
            % {
                "what": what,
                "need": shown.money_needed if shown else "?",
                "available": shown.available if shown else "?",
            },
        )
    elif isinstance(exc, PriceOutOfBand):
        limits = bands.side_limits(form.instrument, form.side, form.origin())
        form.add_error("price", band_message(form.side, limits or (0, 0)))
    elif isinstance(exc, InsufficientCapacity):
        shown = preview(form)
        form.add_error(
            "quantity",
            _(
                "Your cluster has %(free)s chips free in this window; this order "
                "needs %(need)s."
            )
            % {
                "free": shown.chips_free.normalize() if shown else "?",
                "need": shown.chips_needed.normalize() if shown else "?",
            },
        )
    elif isinstance(exc, NoConversionFactor):
        form.add_error("cluster", no_factor_message())
    else:
        field_name, message = _plain(exc, data)
        form.add_error(field_name if field_name in form.fields else None, message)


def _plain(exc: DomainError, data: dict) -> tuple[str | None, str]:
    if isinstance(exc, FokNotFillable):
        return "time_in_force", _(
            "Fill or kill: the book cannot fill the whole quantity now, so nothing "
            "was done."
        )
    if isinstance(exc, PostOnlyWouldCross):
        return "post_only", _(
            "Post-only: at this price the order would trade at once, so it was not "
            "placed."
        )
    if isinstance(exc, PriceRequired):
        return "price", _(
            "This instrument has no price band yet: a market order needs a price as "
            "its protection."
        )
    if isinstance(exc, InstrumentNotOpen):
        return None, _(
            "This instrument is not open for trading: it is halted or past gate "
            "closure."
        )
    if isinstance(exc, ClientOrderIdConflict):
        return None, _(
            "This ticket was already sent with other values. Reload the page to "
            "place a new order."
        )
    if isinstance(exc, PermissionDenied):
        return None, _("Your account's roles do not allow this side.")
    if isinstance(exc, ClusterNotVerified):
        return "cluster", _(
            "This cluster awaits an operator's check of its region, chips and count: "
            "it can sell once it is verified."
        )
    fields = getattr(exc, "fields", {}) or {}
    field_name = next(iter(fields), None)
    if field_name == "constraints":  # the ticket's field of the constraint named
        nested = fields["constraints"]
        key = next(iter(nested), "stacks") if isinstance(nested, dict) else "stacks"
        field_name = {"min_green_share": "min_green_pct"}.get(key, key)
    return field_name, exc.message
