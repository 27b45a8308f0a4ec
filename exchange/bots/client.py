"""What the bots share on top of the Python client (clients/python, `yiwang_client`):
waiting for the server, logging in with a key or a username and password, finding
the instruments to trade, and their command line. The client retries transport
errors, 429 (after Retry-After) and 5xx, and gives every order a client_order_id,
so a retried placement never places twice: a bot is what any client of the API
could be.
"""

import argparse
import logging
import time
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import yiwang_client
from yiwang_client import ApiError, YiwangError
from yiwang_client.models import Instrument

log = logging.getLogger("yiwang.bots")

__all__ = [
    "TRANSIENT",
    "ApiError",
    "Client",
    "base_parser",
    "connect",
    "tick_of",
    "to_tick",
]


class Client(yiwang_client.Client):
    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        super().__init__(url, timeout=timeout, client_order_id_prefix="bot")

    def wait_until_up(self, max_seconds: float | None = None) -> None:
        """Poll until the API answers (the server may still be starting); by
        default for ever."""
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        while True:
            try:
                self.list_regions(limit=1)
                return
            except YiwangError:
                pass
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("the API did not answer")
            time.sleep(1)

    def login(
        self,
        *,
        token: str | None,
        username: str | None,
        password: str | None,
        key_name: str,
    ) -> None:
        """Use `token`, else log in for a key named `key_name`: the server replaces
        the user's live key of that name, so a bot restarted any number of times
        holds one key (two bots of one user need two names)."""
        if not token:
            if not (username and password):
                raise SystemExit("give --token, or --username and --password")
            token = self.create_token(
                username=username, password=password, name=key_name
            ).key
        self.token = token

    # --- the market ------------------------------------------------------------------
    def instrument(self, *, symbol: str | None, profile: str) -> Instrument:
        """The named instrument, else the profile's next open one."""
        if symbol:
            return self.get_instrument(symbol)
        while True:
            rows = self.list_instruments(profile=profile, state="open", limit=500)
            if rows.results:
                return min(rows.results, key=lambda r: r.delivery_start)
            log.info("no open %s instrument yet; waiting", profile)
            time.sleep(5)

    def open_instruments(self, *, profile: str, products: set[str]) -> list[Instrument]:
        """The profile's open instruments of these products (`day`, `block`), by
        delivery start; an instrument without a product counts as a day."""
        rows = self.list_instruments(profile=profile, state="open", limit=500)
        return sorted(
            (r for r in rows.results if (r.product or "day") in products),
            key=lambda r: (r.delivery_start, r.delivery_end),
        )

    def filled_quantity(self, symbol: str, since_trade: int = 0) -> Decimal:
        """What this participant traded on `symbol` (trades after `since_trade`)."""
        fills = self.paginate(self.list_fills, instrument=symbol, limit=500)
        return sum((f.quantity for f in fills if f.trade_id > since_trade), Decimal(0))

    def last_trade_id(self, symbol: str) -> int:
        rows = self.list_fills(instrument=symbol, limit=1).results
        return rows[0].trade_id if rows else 0


# What a bot survives by logging and trying again: a refusal, a server that went away.
TRANSIENT = (YiwangError,)


def tick_of(instrument: Instrument) -> Decimal:
    if instrument.tick_size is None:
        raise ValueError(f"{instrument.symbol} has no tick size")
    return instrument.tick_size


def to_tick(price: Decimal, tick: Decimal, *, up: bool) -> Decimal:
    steps = (price / tick).to_integral_value(ROUND_CEILING if up else ROUND_FLOOR)
    return steps * tick


def base_parser(description: str, *, key_name: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--url", required=True, help="e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", help="an API key")
    parser.add_argument("--username", help="instead of --token: log in for a key")
    parser.add_argument("--password")
    parser.add_argument(
        "--key-name",
        default=key_name,
        help="the name of the key a login replaces (default: %(default)s)",
    )
    parser.add_argument("--symbol", help="default: the profile's next instrument")
    parser.add_argument("--profile", default="train")
    parser.add_argument(
        "--products",
        default="day,block",
        help="which products to trade without --symbol: day, block or both",
    )
    parser.add_argument("--interval", type=float, default=2.0, help="seconds")
    parser.add_argument("--max-seconds", type=float, default=0, help="0: forever")
    parser.add_argument("--seed", type=int)
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


def connect(args) -> Client:
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(message)s",
    )
    if not args.verbose:
        logging.getLogger("httpx").setLevel(logging.WARNING)
    client = Client(args.url)
    client.wait_until_up()
    client.login(
        token=args.token,
        username=args.username,
        password=args.password,
        key_name=args.key_name,
    )
    return client
