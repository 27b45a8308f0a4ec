"""Zero-intelligence constrained trader (Gode and Sunder, 1993).

A buyer with value v bids uniformly at random in [min price, v]; a seller with cost c
asks uniformly in [c, max price]. Each replaces its own standing order every interval
until its quantity has traded, so it never trades at a loss (the budget constraint)
and knows nothing else. Buyers' prices are all-in at their origin, sellers' at their
cluster's site.

    python -m exchange.bots.zic --url URL --token KEY --side buy --limit 12.00
"""

import logging
import math
import random
import time
from dataclasses import dataclass
from decimal import Decimal

from yiwang_client.models import Instrument

from exchange.bots.client import (
    TRANSIENT,
    ApiError,
    Client,
    base_parser,
    connect,
    tick_of,
)

log = logging.getLogger("yiwang.bots.zic")


@dataclass
class Trader:
    client: Client
    side: str
    limit: Decimal  # value (buy) or cost (sell)
    quantity: Decimal
    floor: Decimal  # the lowest bid a buyer draws
    ceiling: Decimal  # the highest ask a seller draws
    rng: random.Random
    cluster: int | None = None
    region: str | None = None

    def draw(self, tick: Decimal) -> Decimal:
        """A price on the tick grid, uniform over the ticks between the bounds: a
        buyer never bids above its value, a seller never asks below its cost."""
        if self.side == "buy":
            high = math.floor(self.limit / tick)
            low = min(math.ceil(min(self.floor, self.limit) / tick), high)
        else:
            low = math.ceil(self.limit / tick)
            high = max(math.floor(max(self.ceiling, self.limit) / tick), low)
        return self.rng.randint(low, high) * tick

    def order(self, symbol: str, price: Decimal, quantity: Decimal) -> dict:
        """The fields of `place_order`."""
        body = {
            "instrument": symbol,
            "side": self.side,
            "price": price,
            "quantity": quantity,
        }
        if self.side == "sell":
            body["cluster"] = self.cluster
        elif self.region:
            body["region"] = self.region
        return body

    def run_unit(
        self, instrument: Instrument, *, interval: float, deadline: float
    ) -> bool:
        """Trade `quantity` on the instrument; False if time ran out first."""
        symbol, tick = instrument.symbol, tick_of(instrument)
        since = self.client.last_trade_id(symbol)
        while True:
            self.client.cancel_orders(instrument=symbol, side=self.side)
            done = self.client.filled_quantity(symbol, since_trade=since)
            left = self.quantity - done
            if left <= 0:
                return True
            if deadline and time.monotonic() > deadline:
                return False
            price = self.draw(tick)
            try:
                self.client.place_order(**self.order(symbol, price, left))
            except ApiError as exc:
                if exc.code == "instrument_not_open":
                    return False
                log.info("%s %s @ %s refused: %s", self.side, left, price, exc)
            time.sleep(interval * self.rng.uniform(0.5, 1.5))


def pick(client: Client, args, rng: random.Random) -> Instrument:
    """--symbol, else one of the profile's next open products (the day or one of
    its blocks), drawn at random so that every block gets traded."""
    if args.symbol:
        return client.instrument(symbol=args.symbol, profile=args.profile)
    rows = client.open_instruments(
        profile=args.profile, products=set(args.products.split(","))
    )
    if not rows:
        return client.instrument(symbol=None, profile=args.profile)
    return rng.choice(rows[: args.horizon])


def main(argv=None) -> int:
    parser = base_parser(__doc__.splitlines()[0], key_name="bot-zic")
    parser.add_argument("--side", choices=["buy", "sell"], required=True)
    parser.add_argument("--limit", required=True, help="value (buy) or cost (sell)")
    parser.add_argument("--quantity", default="10.0", help="SCU-h per unit")
    parser.add_argument("--units", type=int, default=1, help="0: trade forever")
    parser.add_argument("--min-price", default="1.00", help="lowest bid drawn")
    parser.add_argument("--max-price", default="100.00", help="highest ask drawn")
    parser.add_argument("--cluster", type=int, help="sell: your cluster's id")
    parser.add_argument("--region", help="buy: the origin region")
    parser.add_argument(
        "--horizon", type=int, default=7, help="draw among this many open products"
    )
    args = parser.parse_args(argv)
    client = connect(args)
    if args.side == "sell" and args.cluster is None:
        clusters = client.list_clusters(limit=1).results
        if not clusters:
            raise SystemExit("a seller needs a cluster (POST /api/v1/clusters/)")
        args.cluster = clusters[0].id
    trader = Trader(
        client=client,
        side=args.side,
        limit=Decimal(args.limit),
        quantity=Decimal(args.quantity),
        floor=Decimal(args.min_price),
        ceiling=Decimal(args.max_price),
        rng=random.Random(args.seed),  # noqa: S311  (a simulation, not secrets)
        cluster=args.cluster,
        region=args.region,
    )
    deadline = time.monotonic() + args.max_seconds if args.max_seconds else 0
    units = 0
    while args.units == 0 or units < args.units:
        try:
            instrument = pick(client, args, trader.rng)
            done = trader.run_unit(
                instrument, interval=args.interval, deadline=deadline
            )
        except TRANSIENT as exc:
            log.warning("%s; trying again", exc)
            time.sleep(args.interval)
            continue
        if done:
            units += 1
            log.info("%s traded unit %d on %s", args.side, units, instrument.symbol)
        elif deadline and time.monotonic() > deadline:
            break
    client.cancel_orders()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
