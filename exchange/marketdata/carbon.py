"""Carbon per trade: delivered SCU-h x energy per SCU-h x the selling region's PUE x
its grid intensity.

Energy per SCU-h at the chip is its TDP in kW over its factor (SCU per chip-hour) for
the instrument's profile, in the conversion table the instrument is bound to: the
seller's cluster turns chip-hours into SCU-h at that rate. So

    kgCO2 per SCU-h = TDP / 1000 / factor x PUE x kgCO2 per kWh

Delivered SCU-h is the trade quantity until the provider reports (or an operator sets)
a delivered quantity, then that. A footprint per SCU-h is determined once, when the
candle fold meets the trade, and stored with the figures it used (TradeCarbon); a
trade not folded yet is computed the same way on read. A chip without a published TDP
has no footprint (None), which is shown as unknown, never as zero. Decimal throughout.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F, QuerySet

from exchange.models import Trade, TradeCarbon
from exchange.persistence import carbon_inputs_by_trade
from market.models import Participant
from market.selectors import table_factor
from settlement import interface as settlement

WATTS_PER_KW = Decimal(1000)
FOOTPRINT_PLACES = Decimal("0.000000001")
KG_PLACES = Decimal("0.001")


def kwh_per_scu_h(
    *, tdp_w: int | None, factor: Decimal | None, pue: Decimal
) -> Decimal | None:
    """Energy at the meter per SCU-h, or None without a TDP or a factor."""
    if tdp_w is None or not factor:
        return None
    energy = Decimal(tdp_w) / WATTS_PER_KW / factor * pue
    return energy.quantize(FOOTPRINT_PLACES, ROUND_HALF_UP)


def kg_per_scu_h(
    *, tdp_w: int | None, factor: Decimal | None, pue: Decimal, intensity: Decimal
) -> Decimal | None:
    if tdp_w is None or not factor:
        return None
    kg = Decimal(tdp_w) / WATTS_PER_KW / factor * pue * intensity
    return kg.quantize(FOOTPRINT_PLACES, ROUND_HALF_UP)


def fill_kg(delivered_scu_h: Decimal, footprint: Decimal | None) -> Decimal | None:
    """A fill's carbon, rounded half-up to the gram; totals add these up, so the
    figures a user sees add up too."""
    if footprint is None:
        return None
    return (delivered_scu_h * footprint).quantize(KG_PLACES, ROUND_HALF_UP)


# --- footprints of trades -----------------------------------------------------------
# What a footprint is computed from, read with the trade in the same query.
FOOTPRINT_INPUTS = (
    "sell_order__cluster__chip__tdp_w",
    "sell_order__cluster__chip_id",
    "instrument__conversion_table_id",
    "instrument__profile_id",
    "sell_region__pue",
    "sell_region__carbon_intensity_kg_per_kwh",
)


def footprint_of(
    trade_id: int, tdp_w, chip_id, table_id, profile_id, pue, intensity
) -> TradeCarbon:
    """An unsaved footprint from FOOTPRINT_INPUTS (the factor of the instrument's
    conversion table, which each process may cache: tables are immutable)."""
    factor = table_factor(table_id, profile_id, chip_id)
    return TradeCarbon(
        trade_id=trade_id,
        tdp_w=tdp_w,
        factor=factor,
        pue=pue,
        carbon_intensity_kg_per_kwh=intensity,
        kwh_per_scu_h=kwh_per_scu_h(tdp_w=tdp_w, factor=factor, pue=pue),
        kg_per_scu_h=kg_per_scu_h(
            tdp_w=tdp_w, factor=factor, pue=pue, intensity=intensity
        ),
    )


def footprints_compute(trades: QuerySet[Trade]) -> list[TradeCarbon]:
    """Footprints of `trades` from today's catalogue (unsaved), in one query."""
    rows = trades.order_by().values_list("pk", *FOOTPRINT_INPUTS)
    return [footprint_of(*row) for row in rows]


def with_carbon_inputs(trades: QuerySet[Trade]) -> QuerySet[Trade]:
    """Annotate trades with the delivered quantity settlement knows
    (`delivered_known`, None until reported), their stored footprint (`footprint`;
    `folded` is None when none is stored yet), so that CARBON_FIELDS read in one
    query all a trade's carbon needs."""
    return trades.annotate(
        delivered_known=settlement.delivered_quantity_subquery(),
        footprint=F("carbon__kg_per_scu_h"),
        folded=F("carbon__trade_id"),
    )


CARBON_FIELDS = (
    "pk",
    "quantity",
    "delivered_known",
    "footprint",
    "folded",
    *FOOTPRINT_INPUTS,
)


@dataclass(frozen=True, slots=True)
class TradeCarbonRow:
    trade_id: int
    delivered: Decimal
    kg: Decimal | None


def carbon_rows(rows: Iterable[tuple]) -> list[TradeCarbonRow]:
    """Each trade's carbon from its CARBON_FIELDS: the stored footprint, else one
    computed now (the trade is not folded yet)."""
    out = []
    for trade_id, quantity, delivered_known, footprint, folded, *inputs in rows:
        if folded is None:
            footprint = footprint_of(trade_id, *inputs).kg_per_scu_h
        delivered = quantity if delivered_known is None else delivered_known
        out.append(TradeCarbonRow(trade_id, delivered, fill_kg(delivered, footprint)))
    return out


def trades_carbon_kg(trade_ids: list[int]) -> dict[int, Decimal | None]:
    """kgCO2 of each trade (None where the chip's TDP is unknown); one query, in
    plain SQL, since every order answer with fills asks (tested equal to the
    queryset of `with_carbon_inputs`)."""
    if not trade_ids:
        return {}
    rows = carbon_inputs_by_trade(trade_ids)
    return {r.trade_id: r.kg for r in carbon_rows(rows)}


@dataclass(frozen=True, slots=True)
class CarbonTotal:
    kg: Decimal
    scu_h: Decimal  # delivered (or bought, until reported) SCU-h with a footprint
    trades: int
    unknown: int  # trades whose chip has no published TDP


def buyer_carbon_total(*, participant: Participant) -> CarbonTotal:
    """The carbon of everything the participant bought."""
    trades = with_carbon_inputs(Trade.objects.filter(buyer=participant))
    return carbon_total(carbon_rows(trades.values_list(*CARBON_FIELDS).iterator()))


def carbon_total(rows: Iterable[TradeCarbonRow]) -> CarbonTotal:
    kg, scu_h, trades, unknown = Decimal("0.000"), Decimal("0.0"), 0, 0
    for row in rows:
        trades += 1
        if row.kg is None:
            unknown += 1
            continue
        kg += row.kg
        scu_h += row.delivered
    return CarbonTotal(kg=kg, scu_h=scu_h, trades=trades, unknown=unknown)
