"""A procurement bot: buys a quantity at the lowest all-in prices into its region,
never above a limit. Each round it reads the book priced into its region and sends an
IOC buy for what is left at the highest all-in price it needs (capped by the limit),
so the engine fills it cheapest first; it waits and tries again until done. With
`--constraints` its bids carry them and it prices from the asks they allow (the book
filtered by the same fields).

    python -m exchange.bots.procure --url URL --token KEY --quantity 100.0 \\
        --limit 12.00 --region CITY-BJ \\
        --constraints '{"min_memory_gb": 80, "min_reliability": "0.90"}'
"""

import argparse
import json
import logging
import time
from decimal import Decimal

from yiwang_client import ConstraintsInput
from yiwang_client.models import Book

from exchange.bots.client import TRANSIENT, ApiError, Client, base_parser, connect

log = logging.getLogger("yiwang.bots.procure")


def price_for(book: Book, quantity: Decimal, limit: Decimal) -> Decimal | None:
    """The all-in price that reaches `quantity` of the cheapest asks (or all of
    them under the limit); None when nothing is at or under the limit."""
    reached, price = Decimal(0), None
    for ask in book.asks:
        all_in = ask.all_in_price  # the book is priced into the bot's region
        if all_in is None or all_in > limit:
            break
        reached += ask.quantity
        price = all_in
        if reached >= quantity:
            break
    return price


def constraints_of(args) -> dict:
    """The bids' constraints: `--constraints`, with `--stacks` among them."""
    constraints = dict(args.constraints or {})
    if args.stacks:
        constraints["stacks"] = args.stacks.split(",")
    return constraints


def buy_round(client: Client, symbol: str, args, left: Decimal) -> Decimal:
    """One IOC buy; returns the quantity it got."""
    constraints = constraints_of(args)
    book = client.get_book(symbol, region=args.region, depth=100, **constraints)
    price = price_for(book, left, Decimal(args.limit))
    if price is None:
        return Decimal(0)
    try:
        order = client.place_order(
            instrument=symbol,
            side="buy",
            time_in_force="IOC",
            price=price,
            quantity=left,
            region=args.region,
            constraints=ConstraintsInput(**constraints) if constraints else None,
        )
    except ApiError as exc:
        log.info("buy %s @ %s refused: %s", left, price, exc)
        return Decimal(0)
    return order.filled_quantity


def procure(client: Client, args, deadline: float) -> Decimal:
    got, want = Decimal(0), Decimal(args.quantity)
    while got < want and not (deadline and time.monotonic() > deadline):
        try:
            # Looked up each round: the instrument of the last round may have
            # closed at its gate since.
            symbol = client.instrument(symbol=args.symbol, profile=args.profile).symbol
            got += buy_round(client, symbol, args, want - got)
        except TRANSIENT as exc:
            log.warning("%s; trying again", exc)
        if got < want:
            time.sleep(args.interval)
    log.info("bought %s of %s SCU-h", got, want)
    return got


def json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("a JSON object is needed")
    return value


def main(argv=None) -> int:
    parser = base_parser(__doc__.splitlines()[0], key_name="bot-procure")
    parser.add_argument("--quantity", required=True, help="SCU-h to buy")
    parser.add_argument("--limit", required=True, help="highest all-in price")
    parser.add_argument("--region", required=True, help="your origin region")
    parser.add_argument("--stacks", help="allowed stacks, e.g. CUDA,CANN")
    parser.add_argument(
        "--constraints",
        type=json_object,
        help="the bids' constraints as JSON, e.g. '{\"min_memory_gb\": 80}'",
    )
    parser.add_argument("--repeat", action="store_true", help="buy again when done")
    args = parser.parse_args(argv)
    client = connect(args)
    deadline = time.monotonic() + args.max_seconds if args.max_seconds else 0
    while True:
        try:
            got = procure(client, args, deadline)
        except TRANSIENT as exc:  # finding the instrument failed
            log.warning("%s; trying again", exc)
            time.sleep(args.interval)
            continue
        if not args.repeat or (deadline and time.monotonic() > deadline):
            return 0 if got >= Decimal(args.quantity) else 1
        time.sleep(args.interval * 10)


if __name__ == "__main__":
    raise SystemExit(main())
