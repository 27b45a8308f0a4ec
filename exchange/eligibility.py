"""Which resting asks a buy's constraints allow, and in plain words why the others
are left out: for the book filtered by constraints, the ticket's preview and an
order's page. Reads only.

The rules are the engine's own (`Network.exclusions`, the same per pair of buckets
as matching uses), applied to the asks grouped as the engine buckets them: site,
stack and attributes (chip, verified TEE and certifications, the provider's
reliability as the sell took it).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _

from exchange import books, codec, engine
from exchange.models import Instrument, Order
from exchange.selectors import resting_orders
from market.models import ChipModel, Region


@dataclass
class AskGroup:
    """Resting asks of one site, stack and attribute signature."""

    region: str
    stack: str
    chip: ChipModel
    confidential: bool
    certifications: str
    reliability: Decimal | None
    levels: list[tuple[Decimal, Decimal]] = field(default_factory=list)
    surcharge: Decimal | None = None  # into the buyer's origin; None: no link
    reasons: list[str] = field(default_factory=list)  # rule names; empty: allowed

    @property
    def attributes(self) -> engine.Attributes:
        return codec.attributes_engine(
            self.chip.code,
            self.chip.vendor,
            self.chip.memory_gb,
            self.confidential,
            self.certifications,
            self.reliability,
        )

    @property
    def best_price(self) -> Decimal:
        return self.levels[0][0]

    @property
    def quantity(self) -> Decimal:
        return sum((q for _p, q in self.levels), Decimal(0))

    @property
    def certification_codes(self) -> list[str]:
        return [c for c in self.certifications.split(",") if c]


GROUP_FIELDS = (
    "region__code",
    "stack__code",
    "cluster__chip",
    "confidential",
    "certifications",
    "reliability",
)


def ask_groups(
    instrument: Instrument, *, excluding_participant_id: int | None = None
) -> list[AskGroup]:
    """The resting asks (of others than `excluding_participant_id`), grouped as the
    engine buckets them, each with its price levels cheapest first."""
    asks = resting_orders(instrument, Order.Side.SELL)
    if excluding_participant_id is not None:
        asks = asks.exclude(participant_id=excluding_participant_id)
    rows = (
        asks.values(*GROUP_FIELDS, "price")
        .annotate(quantity=Sum("remaining_quantity"))
        .order_by("price")
    )
    chips: dict[int, ChipModel] = {}
    groups: dict[tuple, AskGroup] = {}
    for row in rows:
        key = tuple(row[f] for f in GROUP_FIELDS)
        group = groups.get(key)
        if group is None:
            chip_id = row["cluster__chip"]
            if chip_id not in chips:
                chips[chip_id] = ChipModel.objects.get(pk=chip_id)
            group = groups[key] = AskGroup(
                row["region__code"],
                row["stack__code"],
                chips[chip_id],
                bool(row["confidential"]),
                row["certifications"],
                row["reliability"],
            )
        group.levels.append((row["price"], row["quantity"]))
    return list(groups.values())


def evaluate(
    groups: Iterable[AskGroup],
    network: engine.Network,
    origin: str | None,
    constraints: engine.Constraints,
    tick: Decimal,
) -> None:
    """Set each group's surcharge into `origin` (CNY per SCU-h, from the network's
    ticks) and the rules that exclude it. Without an origin, only what does not
    depend on one is checked (the ask's own region stands in: linked, no latency)."""
    for group in groups:
        buyer = origin if origin is not None else group.region
        group.reasons = network.exclusions(
            group.region, group.stack, group.attributes, buyer, constraints
        )
        s = network.surcharge_between(group.region, buyer)
        group.surcharge = None if s is None else s * tick


def explained(
    instrument: Instrument,
    constraints: dict,
    origin: Region | None,
    *,
    excluding_participant_id: int | None = None,
) -> list[AskGroup]:
    """The resting asks grouped, each with its surcharge into `origin` (CNY per
    SCU-h) and the rules of `constraints` (as an order stores them) it fails."""
    groups = ask_groups(instrument, excluding_participant_id=excluding_participant_id)
    evaluate(
        groups,
        books.network_build(instrument),
        None if origin is None else origin.code,
        codec.constraints_engine(constraints),
        instrument.tick_size,
    )
    return groups


# --- in plain words -------------------------------------------------------------------
def reason_texts(
    group: AskGroup, constraints: dict, latency_ms: Decimal | None = None
) -> list[str]:
    """Each rule that excludes the group, in the reader's language, with figures."""
    return [_text(rule, group, constraints, latency_ms) for rule in group.reasons]


def _text(rule: str, g: AskGroup, c: dict, latency_ms) -> str:
    chip = g.chip
    if rule in REGION_RULES:
        return _region_text(rule, c, latency_ms)
    if rule == "stack":
        return _("software stack %(stack)s not allowed") % {"stack": g.stack}
    if rule == "chip":
        return _("chip %(chip)s not among the chips asked for") % {"chip": chip.model}
    if rule == "vendor":
        return _("vendor %(vendor)s not allowed") % {"vendor": chip.vendor}
    if rule == "memory":
        if chip.memory_gb is None:
            return _("memory per chip unpublished")
        return _("%(have)s GB per chip is under %(need)s GB") % {
            "have": chip.memory_gb.normalize(),
            "need": c.get("min_memory_gb"),
        }
    if rule == "confidential":
        return _("no operator-verified confidential computing (TEE)")
    if rule == "certifications":
        wanted = set(c.get("certifications") or ())
        missing = sorted(wanted - set(g.certification_codes))
        return _("lacks verified certification %(codes)s") % {
            "codes": ", ".join(missing)
        }
    return _("provider reliability %(have)s is under %(need)s") % {
        "have": g.reliability if g.reliability is not None else "?",
        "need": c.get("min_reliability"),
    }


def _region_text(rule: str, c: dict, latency_ms) -> str:
    """A rule of the pair of regions, in plain words."""
    if rule == "link":
        return _("no network link to your region")
    if rule == "region":
        return _("region not allowed (regions or data residency)")
    if rule == "latency":
        if latency_ms is None:
            return _("latency unknown or over %(max)s ms") % {
                "max": c.get("max_latency_ms")
            }
        return _("latency %(ms)s ms is over %(max)s") % {
            "ms": Decimal(latency_ms).normalize(),
            "max": c.get("max_latency_ms"),
        }
    return _("green-power share unknown or under the minimum")


# The rules of a pair of regions: they rule out a region as a whole, not some of the
# asks resting there.
REGION_RULES = ("link", "region", "latency", "green_share")


# --- per region ----------------------------------------------------------------------
@dataclass(frozen=True)
class RegionVerdict:
    """Whether a region's side of the market could trade with an order, and why
    not in plain words (None when it could)."""

    region: str
    eligible: bool
    reason: str | None


def _verdict(region: str, texts: Iterable[str]) -> RegionVerdict:
    texts = list(dict.fromkeys(texts))  # each once, in the order found
    return RegionVerdict(region, not texts, "; ".join(texts) or None)


def buy_regions(
    instrument: Instrument,
    network: engine.Network,
    *,
    origin: str,
    constraints: dict,
    participant_id: int,
) -> list[RegionVerdict]:
    """Per region, whether its sellers could serve a buy from `origin` with
    `constraints` (as an order stores them), and why not: a rule of the pair of
    regions rules it out whole; else the rules that keep every ask of others
    resting there from the buy. A region where nothing rests is ruled out only by
    the first kind."""
    wanted = codec.constraints_engine(constraints)
    groups = ask_groups(instrument, excluding_participant_id=participant_id)
    evaluate(groups, network, origin, wanted, instrument.tick_size)
    verdicts = []
    for code in Region.objects.order_by("code").values_list("code", flat=True):
        latency_ms = network.latency(code, origin)
        texts = [
            _region_text(rule, constraints, latency_ms)
            for rule in network.exclusions(code, None, None, origin, wanted)
            if rule in REGION_RULES
        ]
        here = [group for group in groups if group.region == code]
        if not texts and here and all(group.reasons for group in here):
            texts = [t for g in here for t in reason_texts(g, constraints, latency_ms)]
        verdicts.append(_verdict(code, texts))
    return verdicts


def sell_regions(
    instrument: Instrument,
    network: engine.Network,
    *,
    site: AskGroup,
    participant_id: int,
) -> list[RegionVerdict]:
    """Per region, whether its buyers could take a sell of `site` (its region,
    stack and attributes), and why not: no link from the site; else the
    constraints of every bid of others resting from there, that the sell fails."""
    bids = list(
        resting_orders(instrument, Order.Side.BUY)
        .exclude(participant_id=participant_id)
        .values_list("region__code", "constraints")
        .distinct()
    )
    verdicts = []
    for code in Region.objects.order_by("code").values_list("code", flat=True):
        if network.surcharge_between(site.region, code) is None:
            verdicts.append(_verdict(code, [_("no network link to this region")]))
            continue
        latency_ms = network.latency(site.region, code)
        texts, served = [], False
        for constraints in (c for origin, c in bids if origin == code):
            site.reasons = network.exclusions(
                site.region,
                site.stack,
                site.attributes,
                code,
                codec.constraints_engine(constraints),
            )
            served = served or not site.reasons
            texts += reason_texts(site, constraints, latency_ms)
        verdicts.append(_verdict(code, [] if served else texts))
    return verdicts


def book_judge(
    instrument: Instrument, constraints: dict, origin: Region | None
) -> Callable[[dict], list[str]]:
    """The rules (as `Network.exclusions` names them) that keep a book's ask level
    (`selectors.order_book_get`'s row) from a buy from `origin` with `constraints`
    (as an order stores them); empty: it could trade. Decided once per signature."""
    network = books.network_build(instrument)
    wanted = codec.constraints_engine(constraints)
    chips = {chip.code: chip for chip in ChipModel.objects.all()}
    decided: dict[tuple, list[str]] = {}

    def judge(row: dict) -> list[str]:
        certifications = ",".join(row["certifications"])
        key = (row["region"], row["stack"], row["chip"], row["confidential"])
        key += (certifications, row["reliability"])
        if key not in decided:
            chip = chips[row["chip"]]
            attributes = codec.attributes_engine(
                chip.code,
                chip.vendor,
                chip.memory_gb,
                row["confidential"],
                certifications,
                row["reliability"],
            )
            site, buyer = row["region"], origin.code if origin else row["region"]
            decided[key] = network.exclusions(
                site, row["stack"], attributes, buyer, wanted
            )
        return decided[key]

    return judge


def book_filter(
    instrument: Instrument, constraints: dict, origin: Region | None
) -> Callable[[dict], bool]:
    """Whether a book's ask level is one such a buy could trade with."""
    judge = book_judge(instrument, constraints, origin)
    return lambda row: not judge(row)


def row_group(row: dict, chip: ChipModel, reasons: list[str]) -> AskGroup:
    """A book row as an `AskGroup` (for `reason_texts`)."""
    return AskGroup(
        row["region"],
        row["stack"],
        chip,
        row["confidential"],
        ",".join(row["certifications"]),
        row["reliability"],
        reasons=reasons,
    )
