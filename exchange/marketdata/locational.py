"""Locational prices: per region, the best all-in price a buyer there would pay now,
the least `ask + s(a, region)` over the resting sells (buyer constraints ignored,
optionally for one stack), and its spread to the best ask in the region itself. The
answer to "does moving work west pay for its network cost?"; and the colours of the
map that shows it."""

from decimal import Decimal

from django.db.models import Min

from exchange.models import Instrument, Order
from exchange.selectors import resting_orders
from market.models import Region, Surcharge

# Cheapest to dearest (ColorBrewer RdYlGn, reversed); no price: grey.
PRICE_COLOURS = ("#1a9850", "#91cf60", "#d9c84a", "#fc8d59", "#d73027")
NO_PRICE_COLOUR = "#adb5bd"


def _best_asks(instrument: Instrument, stack: str | None) -> dict[int, Decimal]:
    """The least resting ask per sell region (site price)."""
    asks = resting_orders(instrument, Order.Side.SELL)
    if stack is not None:
        asks = asks.filter(stack__code=stack)
    return dict(
        asks.values("region_id")
        .annotate(best=Min("price"))
        .values_list("region_id", "best")
    )


def locational_prices(*, instrument: Instrument, stack: str | None = None) -> list:
    """Per region: `price` (the least ask + s(a, region)), its `source_region` and
    `surcharge`; `local_price`, the best ask in the region itself; and `spread`,
    local - locational (what buying from elsewhere saves; null when either is
    missing)."""
    best = _best_asks(instrument, stack)
    cheapest: dict[int, tuple[Decimal, int, Decimal]] = {}
    rows = Surcharge.objects.filter(
        table_id=instrument.surcharge_table_id, sell_region_id__in=list(best)
    ).values_list("sell_region_id", "buy_region_id", "surcharge")
    for sell, buy, surcharge in rows:
        candidate = (best[sell] + surcharge, sell, surcharge)
        if buy not in cheapest or candidate[:1] < cheapest[buy][:1]:
            cheapest[buy] = candidate
    codes = dict(Region.objects.values_list("pk", "code"))
    out = []
    for region_id, code in sorted(codes.items(), key=lambda kv: kv[1]):
        price, source, surcharge = cheapest.get(region_id, (None, None, None))
        local = best.get(region_id)
        out.append(
            {
                "region": code,
                "price": price,
                "source_region": codes.get(source),
                "surcharge": surcharge,
                "local_price": local,
                "spread": None if price is None or local is None else local - price,
            }
        )
    return out


def price_colours(rows: list[dict]) -> dict[str, str]:
    """A colour per region code for its locational price: five even steps from the
    cheapest region to the dearest, grey where nothing reaches it."""
    prices = [r["price"] for r in rows if r["price"] is not None]
    if not prices:
        return {r["region"]: NO_PRICE_COLOUR for r in rows}
    low, high = min(prices), max(prices)
    steps = len(PRICE_COLOURS) - 1
    out = {}
    for row in rows:
        price = row["price"]
        if price is None:
            out[row["region"]] = NO_PRICE_COLOUR
        elif high == low:
            out[row["region"]] = PRICE_COLOURS[0]
        else:
            step = int((price - low) / (high - low) * steps + Decimal("0.5"))
            out[row["region"]] = PRICE_COLOURS[step]
    return out
