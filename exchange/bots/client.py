"""A small REST client for the bots: waits for the server, logs in with a key or a
username and password, retries transport errors, 429 (after Retry-After) and 5xx.
Only httpx and the standard library: a bot is what any client of the API could be.
"""

import argparse
import itertools
import logging
import random
import re
import secrets
import time
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import httpx

log = logging.getLogger("yiwang.bots")
RETRY_STATUSES = {429, 500, 502, 503, 504}


class ApiError(Exception):
    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            error = {"code": "http_error", "message": response.text[:200]}
        self.code = error.get("code", "")
        super().__init__(f"{self.status} {self.code}: {error.get('message', '')}")


class Client:
    def __init__(self, url: str, *, timeout: float = 10.0, attempts: int = 8) -> None:
        base = url.rstrip("/") + "/api/v1/"
        self.http = httpx.Client(base_url=base, timeout=timeout)
        self.attempts = attempts
        self._run = secrets.token_hex(4)  # ids stay unique across restarts of a bot
        self._sent = itertools.count(1)

    def close(self) -> None:
        self.http.close()

    # --- transport ----------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        """One call, retried on transport errors, 429 and 5xx; other 4xx raise."""
        delay = 0.2
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if attempt == self.attempts:
                    raise
                log.info("%s %s: %s; retrying", method, path, exc)
            else:
                if response.status_code < 400:
                    return response
                if response.status_code not in RETRY_STATUSES or (
                    attempt == self.attempts
                ):
                    raise ApiError(response)
                retry_after = response.headers.get("Retry-After")
                if retry_after and re.fullmatch(r"[0-9]+", retry_after):
                    delay = max(delay, float(retry_after))
            time.sleep(delay * random.uniform(1, 1.5))  # noqa: S311
            delay = min(delay * 2, 10)
        raise AssertionError("unreachable")

    def get(self, path: str, **params) -> dict:
        return self.request("GET", path, params=params).json()

    def post(self, path: str, body: dict | None = None) -> dict:
        return self.request("POST", path, json=body or {}).json()

    def delete(self, path: str, **params) -> dict:
        return self.request("DELETE", path, params=params).json()

    def client_order_id(self) -> str:
        """A new order's id. `request` sends a request again after a lost connection
        or a 5xx, when the first may have been placed: with the id, the retry gets
        the first order back instead of placing a second."""
        return f"bot-{self._run}-{next(self._sent)}"

    def place(self, body: dict) -> dict:
        """POST an order under a new client_order_id (retries are idempotent)."""
        return self.post("orders/", body | {"client_order_id": self.client_order_id()})

    def wait_until_up(self, max_seconds: float | None = None) -> None:
        """Poll until the API answers (the server may still be starting); by
        default for ever."""
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        while True:
            try:
                if self.http.get("regions/", params={"limit": 1}).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("the API did not answer")
            time.sleep(1)

    def login(self, *, token: str | None, username: str | None, password: str | None):
        if not token:
            if not (username and password):
                raise SystemExit("give --token, or --username and --password")
            body = {"username": username, "password": password, "name": "bot"}
            token = self.post("auth/token/", body)["key"]
        self.http.headers["Authorization"] = f"Token {token}"

    # --- the market ------------------------------------------------------------------
    def instrument(self, *, symbol: str | None, profile: str) -> dict:
        """The named instrument, else the profile's next open one."""
        if symbol:
            return self.get(f"instruments/{symbol}/")
        while True:
            rows = self.get("instruments/", profile=profile, state="open", limit=500)[
                "results"
            ]
            if rows:
                return min(rows, key=lambda r: r["delivery_start"])
            log.info("no open %s instrument yet; waiting", profile)
            time.sleep(5)

    def open_instruments(self, *, profile: str, products: set[str]) -> list[dict]:
        """The profile's open instruments of these products (`day`, `block`), by
        delivery start; an instrument without a product field counts as a day."""
        rows = self.get("instruments/", profile=profile, state="open", limit=500)
        return sorted(
            (r for r in rows["results"] if r.get("product", "day") in products),
            key=lambda r: (r["delivery_start"], r["delivery_end"]),
        )

    def filled_quantity(self, symbol: str, since_trade: int = 0) -> Decimal:
        """What this participant traded on `symbol` (trades after `since_trade`)."""
        total, url = Decimal(0), None
        params = {"instrument": symbol, "limit": 500}
        while True:
            page = (
                self.request("GET", url).json() if url else self.get("fills/", **params)
            )
            for fill in page["results"]:
                if fill["trade_id"] > since_trade:
                    total += Decimal(fill["quantity"])
            url = page["next"]
            if not url:
                return total

    def last_trade_id(self, symbol: str) -> int:
        rows = self.get("fills/", instrument=symbol, limit=1)["results"]
        return rows[0]["trade_id"] if rows else 0


# What a bot survives by logging and trying again: a refusal, a server that went away.
TRANSIENT = (ApiError, httpx.HTTPError)


def to_tick(price: Decimal, tick: Decimal, *, up: bool) -> Decimal:
    steps = (price / tick).to_integral_value(ROUND_CEILING if up else ROUND_FLOOR)
    return steps * tick


def base_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--url", required=True, help="e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", help="an API key")
    parser.add_argument("--username", help="instead of --token: log in for a key")
    parser.add_argument("--password")
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
    client.login(token=args.token, username=args.username, password=args.password)
    return client
