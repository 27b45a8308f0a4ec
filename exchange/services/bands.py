"""The price band: sells within [lo, hi] at the site, buys within [lo, hi + Smax]
all-in, where Smax is the largest surcharge into the buyer's origin."""

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django.db.models import Max

from core import caches
from exchange.exceptions import PriceOutOfBand, PriceRequired
from exchange.models import Instrument, Order
from market.models import Region, Surcharge


def band(instrument: Instrument) -> tuple[Decimal, Decimal] | None:
    """(lo, hi) at the site, rounded inward to the tick; None without a band."""
    ref = instrument.reference_price or instrument.opening_price
    if ref is None or instrument.price_band_pct is None:
        return None
    tick, pct = instrument.tick_size, instrument.price_band_pct / 100
    lo = (ref * (1 - pct) / tick).to_integral_value(ROUND_CEILING) * tick
    hi = (ref * (1 + pct) / tick).to_integral_value(ROUND_FLOOR) * tick
    return max(lo, tick), hi


def max_surcharge_into(instrument: Instrument, origin: Region) -> Decimal:
    return _max_surcharge(instrument.surcharge_table_id, origin.pk)


@caches.memoize(maxsize=4096)
def _max_surcharge(table_id: int, region_id: int) -> Decimal:
    """Smax into a region (published tables are immutable: cached per process)."""
    return Surcharge.objects.filter(
        table_id=table_id, buy_region_id=region_id
    ).aggregate(m=Max("surcharge"))["m"] or Decimal(0)


def side_limits(
    instrument: Instrument, side: str, origin: Region
) -> tuple[Decimal, Decimal] | None:
    edges = band(instrument)
    if edges is None or side == Order.Side.SELL:
        return edges
    lo, hi = edges
    return lo, hi + max_surcharge_into(instrument, origin)


def band_check(
    instrument: Instrument, side: str, price: Decimal, origin: Region
) -> None:
    limits = side_limits(instrument, side, origin)
    if limits is not None and not limits[0] <= price <= limits[1]:
        basis = "all-in" if side == Order.Side.BUY else "at the site"
        raise PriceOutOfBand(
            f"{price} is outside the price band [{limits[0]}, {limits[1]}] ({basis}).",
            fields={"price": [f"Must lie in [{limits[0]}, {limits[1]}]."]},
        )


def protection_price(
    instrument: Instrument, side: str, price: Decimal | None, origin: Region
) -> Decimal:
    """A market order's protection: the band's edge (or the tighter of it and the
    order's own price); without a band, the price the order must carry."""
    limits = side_limits(instrument, side, origin)
    if limits is None:
        if price is None:
            raise PriceRequired(
                f"{instrument.symbol} has no price band yet: a market order must "
                "carry a price as its protection."
            )
        return price
    edge = limits[1] if side == Order.Side.BUY else limits[0]
    if price is None:
        return edge
    return min(price, edge) if side == Order.Side.BUY else max(price, edge)
