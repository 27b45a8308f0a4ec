"""A market maker: quotes a bid and an ask around the locational price of its
region in each of the profile's next open products (the day and its blocks, or
only --symbol), replacing all its quotes every interval (cancel-all, then one
batch).

The bid is all-in at the region (its origin); the ask is at its cluster's site. It
needs both roles and a cluster; by default the region is the cluster's. One cluster
quotes a day and its blocks at once: size the quotes so they fit its chips.

    python -m exchange.bots.market_maker --url URL --token KEY --spread 0.40
"""

import logging
import time
from decimal import Decimal

from yiwang_client import NewOrder
from yiwang_client.models import Cluster, Instrument

from exchange.bots.client import (
    TRANSIENT,
    Client,
    base_parser,
    connect,
    tick_of,
    to_tick,
)

log = logging.getLogger("yiwang.bots.market_maker")


def reference_price(
    client: Client, instrument: Instrument, region: str
) -> Decimal | None:
    """The region's locational price, else the last or reference price."""
    body = client.get_locational_prices(symbol=instrument.symbol)
    row = next((r for r in body.results if r.region == region), None)
    for price in (
        row and row.price,
        instrument.last_price,
        instrument.reference_price,
    ):
        if price:
            return price
    return None


def quotes(
    instrument: Instrument, mid: Decimal, args, cluster: Cluster
) -> list[NewOrder]:
    tick, half = tick_of(instrument), Decimal(args.spread) / 2
    symbol, quantity = instrument.symbol, args.quantity
    bid = to_tick(mid - half, tick, up=False)
    ask = to_tick(mid + half, tick, up=True)
    common = {"instrument": symbol, "quantity": quantity, "post_only": True}
    return [
        NewOrder(side="sell", price=ask, cluster=cluster.id, **common),
        NewOrder(side="buy", price=bid, region=args.region, **common),
    ]


def quoted_instruments(client: Client, args) -> list[Instrument]:
    """--symbol alone, else the next `--horizon` open products of the profile."""
    if args.symbol:
        return [client.instrument(symbol=args.symbol, profile=args.profile)]
    products = set(args.products.split(","))
    rows = client.open_instruments(profile=args.profile, products=products)
    return rows[: args.horizon]


def requote(client: Client, args, cluster: Cluster) -> None:
    """Cancel the standing quotes, then quote again around the prices now."""
    instruments = quoted_instruments(client, args)
    client.cancel_orders()
    orders = []
    for instrument in instruments:
        mid = reference_price(client, instrument, args.region)  # without its own
        if mid is not None:
            orders += quotes(instrument, mid, args, cluster)
    if not orders:
        return
    for result in client.place_orders(orders).results:
        if result.error is not None:
            log.info("quote refused: %s", result.error.message)
        elif result.order is not None:
            log.debug("%s %s", result.order.side, result.order.price)


def main(argv=None) -> int:
    parser = base_parser(__doc__.splitlines()[0], key_name="bot-market-maker")
    parser.add_argument("--spread", default="0.40", help="ask - bid, CNY per SCU-h")
    parser.add_argument("--quantity", default="20.0", help="SCU-h per quote")
    parser.add_argument("--cluster", type=int, help="default: your first cluster")
    parser.add_argument("--region", help="default: the cluster's region")
    parser.add_argument(
        "--horizon", type=int, default=7, help="how many open products to quote"
    )
    args = parser.parse_args(argv)
    client = connect(args)
    clusters = client.list_clusters(limit=500).results
    cluster = next((c for c in clusters if args.cluster in (None, c.id)), None)
    if cluster is None:
        raise SystemExit("a market maker needs a cluster (POST /api/v1/clusters/)")
    args.region = args.region or cluster.region
    deadline = time.monotonic() + args.max_seconds if args.max_seconds else 0
    while not deadline or time.monotonic() < deadline:
        try:
            requote(client, args, cluster)
        except TRANSIENT as exc:
            log.warning("%s; trying again", exc)
        time.sleep(args.interval)
    client.cancel_orders()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
