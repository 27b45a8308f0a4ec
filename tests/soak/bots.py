"""The soak's traders over REST, on both nodes: ZI-C buyers and sellers, a market
maker, a procurement bot and a canceller, each a thread with its own participant and
key. Every order carries a unique `client_order_id`; on a connection error or a 5xx
a bot sends the same request again (to the other node) until it gets an answer, and
the `Recorder` keeps every attempt and what each order request was finally told.
Providers report deliveries (a few short) and buyers confirm or dispute them."""

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import httpx

RETRY_STATUSES = {429, 500, 502, 503, 504}
RETRY_SECONDS = 120  # longer than any fault lasts: a node restart, PostgreSQL's
TICK, LOT = Decimal("0.01"), Decimal("0.1")
# Largest surcharge into the buyers' regions per profile (the soak's regions), so a
# buyer's all-in value covers the network.
SURCHARGE = {"train": Decimal("0.03"), "infer": Decimal("0.10"), "hpc": Decimal("0.40")}


@dataclass
class OrderRecord:
    bot: str
    participant_id: int
    coid: str
    body: dict
    answers: list[tuple] = field(default_factory=list)  # (status, order id, code)
    attempts: int = 0  # HTTP attempts of the request: more than one is a retry


class Recorder:
    """What the bots sent and were told, and every HTTP attempt with its latency."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.attempts: list[tuple] = []  # (wall start, seconds, kind, node, status)
        self.orders: dict[tuple[int, str], OrderRecord] = {}
        self.accepted: list[float] = []  # when each order was first told accepted

    def attempt(self, *row) -> None:
        with self.lock:
            self.attempts.append(row)

    def sent(self, bot: str, participant_id: int, body: dict) -> None:
        record = OrderRecord(bot, participant_id, body["client_order_id"], body)
        with self.lock:
            self.orders[participant_id, record.coid] = record

    def told(self, participant_id: int, coid: str, status, answer, tries=1) -> None:
        """`answer`: the order (2xx), the error body's error (4xx), None (no answer)."""
        order_id = answer.get("id") if status in (200, 201) and answer else None
        code = answer.get("code") if status and status >= 400 and answer else None
        with self.lock:
            record = self.orders[participant_id, coid]
            record.attempts += tries
            answers = record.answers
            if order_id is not None and not any(a[1] for a in answers):
                self.accepted.append(time.time())
            answers.append((status, order_id, code))


@dataclass
class BotSpec:
    name: str
    kind: str  # buyer, seller, mm, procure, canceller
    participant_id: int
    key: str
    region: str
    cluster: int | None = None


class Market:
    """The nearest open instrument of each profile, refreshed by one thread."""

    def __init__(self, nodes: list[str], profiles: list[str]) -> None:
        self.nodes, self.profiles = nodes, profiles
        self.lock = threading.Lock()
        self.nearest: dict[str, dict] = {}
        self.open: list[str] = []  # every open instrument, at the last refresh

    def refresh(self) -> None:
        url = random.choice(self.nodes) + "/api/v1/instruments/"
        rows = httpx.get(url, params={"state": "open", "limit": 500}, timeout=5)
        rows.raise_for_status()
        now = time.time()
        nearest = {}
        for row in rows.json()["results"]:
            gate = datetime.fromisoformat(row["gate_closure_at"]).timestamp()
            if row["profile"] in self.profiles and gate > now + 1:
                best = nearest.get(row["profile"])
                if best is None or row["delivery_start"] < best["delivery_start"]:
                    nearest[row["profile"]] = row
        with self.lock:
            self.nearest = nearest
            self.open = [row["symbol"] for row in rows.json()["results"]]

    def pick(self, rng: random.Random) -> dict | None:
        with self.lock:
            rows = list(self.nearest.values())
        return rng.choice(rows) if rows else None


def reference(inst: dict) -> Decimal:
    return Decimal(inst["last_price"] or inst["reference_price"] or "10.00")


def band(inst: dict) -> tuple[Decimal, Decimal]:
    ref, pct = reference(inst), Decimal(inst["price_band_pct"] or 50) / 100
    low = (ref * (1 - pct) / TICK).to_integral_value(ROUND_CEILING) * TICK
    high = (ref * (1 + pct) / TICK).to_integral_value(ROUND_FLOOR) * TICK
    return low, high


def uniform_price(rng: random.Random, low: Decimal, high: Decimal) -> Decimal:
    return rng.randint(int(low / TICK), max(int(high / TICK), int(low / TICK))) * TICK


class Api:
    """One bot's HTTP client on every node; a request is retried as it was sent."""

    def __init__(self, spec: BotSpec, nodes: list[str], rec: Recorder, rng) -> None:
        headers = {"Authorization": f"Token {spec.key}"}
        self.clients = [
            httpx.Client(base_url=f"{n}/api/v1/", headers=headers, timeout=10)
            for n in nodes
        ]
        self.rec, self.rng = rec, rng

    def call(self, kind: str, method: str, path: str, **kw) -> tuple:
        """(status, JSON body) of the first answer that is not a 5xx or 429, or
        (None, None) when none came in RETRY_SECONDS."""
        node = self.rng.randrange(len(self.clients))
        delay, deadline = 0.2, time.monotonic() + RETRY_SECONDS
        self.tries = 0
        while True:
            self.tries += 1
            start, began = time.time(), time.monotonic()
            try:
                response = self.clients[node].request(method, path, **kw)
                status = response.status_code
            except httpx.HTTPError as exc:
                response, status = None, type(exc).__name__
            self.rec.attempt(start, time.monotonic() - began, kind, node, status)
            if response is not None and status not in RETRY_STATUSES:
                try:
                    return status, response.json()
                except ValueError:
                    return status, None
            if time.monotonic() > deadline:
                return None, None
            if status == 429:
                time.sleep(float(response.headers.get("Retry-After") or 1))
                continue
            node = (node + 1) % len(self.clients)  # as a client behind a balancer
            time.sleep(delay * self.rng.uniform(1, 1.5))
            delay = min(delay * 2, 2.0)


class Bot(threading.Thread):
    """A trader: a step every `interval` (mean) while trading, and its delivery
    duties every few seconds until the soak ends."""

    def __init__(self, spec, nodes, market, rec, stop_trading, stop, seed, interval):
        super().__init__(name=spec.name, daemon=True)
        self.spec, self.market, self.rec = spec, market, rec
        self.stop_trading, self.stop = stop_trading, stop
        self.rng = random.Random(seed)
        self.api = Api(spec, nodes, rec, self.rng)
        self.interval, self.count = interval, 0
        self.open_ids: list[int] = []
        self.errors: list[str] = []

    # --- orders ---------------------------------------------------------------
    def coid(self) -> str:
        self.count += 1
        return f"{self.spec.name}-{self.count:06d}"

    def place(self, body: dict) -> dict | None:
        body["client_order_id"] = self.coid()
        self.rec.sent(self.spec.name, self.spec.participant_id, body)
        status, data = self.api.call("order", "POST", "orders/", json=body)
        answer = data.get("error") if status and status >= 400 and data else data
        coid, tries = body["client_order_id"], self.api.tries
        self.rec.told(self.spec.participant_id, coid, status, answer, tries)
        return data if status in (200, 201) else None

    def batch(self, bodies: list[dict]) -> None:
        for body in bodies:
            body["client_order_id"] = self.coid()
            self.rec.sent(self.spec.name, self.spec.participant_id, body)
        status, data = self.api.call(
            "batch", "POST", "orders/batch/", json={"orders": bodies}
        )
        results = data["results"] if status == 200 else [{}] * len(bodies)
        for body, result in zip(bodies, results, strict=True):
            item = result.get("status") if status == 200 else status
            answer = result.get("order") or result.get("error")
            coid, tries = body["client_order_id"], self.api.tries
            self.rec.told(self.spec.participant_id, coid, item, answer, tries)

    def sell_body(self, inst, price, quantity) -> dict:
        return {"instrument": inst["symbol"], "side": "sell", "price": str(price)} | {
            "quantity": str(quantity),
            "cluster": self.spec.cluster,
        }

    def buy_body(self, inst, price, quantity) -> dict:
        return {"instrument": inst["symbol"], "side": "buy", "price": str(price)} | {
            "quantity": str(quantity),
            "region": self.spec.region,
        }

    def quantity(self, low=5, high=30) -> Decimal:
        return self.rng.randint(low, high) * LOT

    # --- the loop -------------------------------------------------------------
    def run(self) -> None:
        next_duties, cancelled_all = 0.0, False
        while not self.stop.is_set():
            try:
                if self.stop_trading.is_set() and not cancelled_all:
                    # The run is over: take every order off the books (once).
                    cancelled_all = self.api.call("cancel_all", "DELETE", "orders/")[0]
                elif not self.stop_trading.is_set():
                    inst = self.market.pick(self.rng)
                    if inst is not None:
                        self.step(inst)
                if time.monotonic() >= next_duties:
                    self.duties()
                    next_duties = time.monotonic() + 3
            except Exception as exc:  # a bot must outlive any answer; keep the why
                self.errors.append(repr(exc))
            time.sleep(self.interval * self.rng.uniform(0.5, 1.5))
        for client in self.api.clients:
            client.close()

    def step(self, inst: dict) -> None:
        raise NotImplementedError

    # --- deliveries -----------------------------------------------------------
    def duties(self) -> None:
        if self.spec.cluster is not None:
            self.report_deliveries()
        if self.spec.kind != "seller":
            self.confirm_deliveries()

    def _deliveries(self, role: str, status: str) -> list[dict]:
        params = {"role": role, "status": status, "limit": 200}
        code, data = self.api.call("read", "GET", "deliveries/", params=params)
        return data["results"] if code == 200 else []

    def report_deliveries(self) -> None:
        now = time.time()
        for row in self._deliveries("seller", "pending"):
            if datetime.fromisoformat(row["delivery_start"]).timestamp() > now:
                continue
            quantity = Decimal(row["quantity"])
            if row["trade_id"] % 10 == 3:  # a few providers deliver short
                quantity = (quantity * Decimal("0.6") / LOT).to_integral_value() * LOT
            body = {"delivered_quantity": str(quantity)}
            path = f"deliveries/{row['trade_id']}/report/"
            self.api.call("delivery", "POST", path, json=body)

    def confirm_deliveries(self) -> None:
        for row in self._deliveries("buyer", "reported"):
            trade = row["trade_id"]
            if trade % 10 == 7:  # and a few buyers dispute: an operator decides
                body = {"reason": "soak: the buyer saw less"}
                self.api.call(
                    "delivery", "POST", f"deliveries/{trade}/dispute/", json=body
                )
            else:
                self.api.call("delivery", "POST", f"deliveries/{trade}/confirm/")
