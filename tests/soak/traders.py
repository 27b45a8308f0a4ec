"""The soak's trading strategies, on `bots.Bot`: ZI-C buyers and sellers (Gode and
Sunder), a market maker quoting in batches, a procurement bot buying IOC from the
book priced into its region, and a canceller that rests, amends and cancels."""

from decimal import Decimal

from tests.soak.bots import SURCHARGE, TICK, Bot, band, reference, uniform_price


class ZicBuyer(Bot):
    """Bids uniformly between the band's floor and its value (all-in), replacing
    its standing bid half of the time."""

    def step(self, inst: dict) -> None:
        low, high = band(inst)
        value = reference(inst) * Decimal("1.08") + SURCHARGE[inst["profile"]]
        price = uniform_price(
            self.rng, low, min(value, high + SURCHARGE[inst["profile"]])
        )
        if self.rng.random() < 0.5:
            params = {"instrument": inst["symbol"], "side": "buy"}
            self.api.call("cancel_all", "DELETE", "orders/", params=params)
        self.place(self.buy_body(inst, price, self.quantity()))


class ZicSeller(Bot):
    """Asks uniformly between its cost and the band's ceiling (at its site)."""

    def step(self, inst: dict) -> None:
        low, high = band(inst)
        cost = max(low, reference(inst) * Decimal("0.94"))
        price = uniform_price(self.rng, cost, high)
        if self.rng.random() < 0.5:
            params = {"instrument": inst["symbol"], "side": "sell"}
            self.api.call("cancel_all", "DELETE", "orders/", params=params)
        self.place(self.sell_body(inst, price, self.quantity()))


class MarketMaker(Bot):
    """Cancels its quotes on the instrument, then quotes both sides post-only in
    one batch around the reference price."""

    def step(self, inst: dict) -> None:
        ref, (low, high) = reference(inst), band(inst)
        half = Decimal("0.20") + self.rng.randint(0, 10) * TICK
        bid = max(low, ref - half) + SURCHARGE[inst["profile"]] / 2
        ask = min(high, ref + half)
        params = {"instrument": inst["symbol"]}
        self.api.call("cancel_all", "DELETE", "orders/", params=params)
        quotes = [
            self.buy_body(inst, bid, self.quantity(10, 40)) | {"post_only": True},
            self.sell_body(inst, ask, self.quantity(10, 40)) | {"post_only": True},
        ]
        self.batch(quotes)


class Procure(Bot):
    """Reads the asks priced into its region and sends an IOC buy at the all-in
    price that reaches its quantity, never above its limit."""

    def step(self, inst: dict) -> None:
        path = f"instruments/{inst['symbol']}/book/"
        params = {"region": self.spec.region, "depth": 50}
        status, book = self.api.call("read", "GET", path, params=params)
        if status != 200:
            return
        limit = reference(inst) * Decimal("1.06") + SURCHARGE[inst["profile"]]
        want, reached, price = self.quantity(10, 50), Decimal(0), None
        for ask in book["asks"]:
            if Decimal(ask["all_in_price"]) > limit or reached >= want:
                break
            reached += Decimal(ask["quantity"])
            price = Decimal(ask["all_in_price"])
        if price is not None:
            body = self.buy_body(inst, price, want) | {"time_in_force": "IOC"}
            self.place(body)


class Canceller(Bot):
    """Rests orders away from the market, then amends or cancels them by id."""

    def step(self, inst: dict) -> None:
        if self.open_ids and self.rng.random() < 0.6:
            order_id = self.open_ids.pop(self.rng.randrange(len(self.open_ids)))
            if self.rng.random() < 0.3:
                body = {"quantity": str(self.quantity(31, 60))}
                self.api.call("amend", "PATCH", f"orders/{order_id}/", json=body)
                self.open_ids.append(order_id)
            else:
                self.api.call("cancel", "DELETE", f"orders/{order_id}/")
            return
        low, high = band(inst)
        if self.rng.random() < 0.5:
            body = self.buy_body(inst, low, self.quantity())
        else:
            body = self.sell_body(inst, high, self.quantity())
        placed = self.place(body)
        if placed and placed.get("status") in ("open", "partially_filled"):
            self.open_ids = [*self.open_ids[-20:], placed["id"]]


KINDS = {
    "buyer": ZicBuyer,
    "seller": ZicSeller,
    "mm": MarketMaker,
    "procure": Procure,
    "canceller": Canceller,
}
