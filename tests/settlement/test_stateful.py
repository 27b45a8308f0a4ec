"""A hypothesis state machine drives deposits, orders, fills, cancels, expiries,
delivery reports, disputes and settlements through the real services, against a small
in-memory model of every balance; after every step the ledger must match the model.

The model does not re-run the matching: it takes the fills the exchange reports, checks
they respect both orders' limits, and from the market's money rules alone predicts
every account: held = the open buys' holds, bond = open sells' bonds + unsettled
trades' bonds, escrow = the unsettled trades, available = what is left.
"""

import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
)

from exchange.exceptions import ExchangeError
from exchange.models import Order
from exchange.services import instruments as lifecycle
from exchange.services.orders import order_cancel
from market.exceptions import DomainError
from settlement import services
from settlement.models import Account
from tests.exchange.conftest import (
    fund,
    make_buyer,
    make_instrument,
    make_seller,
    place,
)

pytestmark = pytest.mark.django_db

_symbols = itertools.count(1)
D = Decimal
C4 = D("0.0001")
ZERO = D(0)


# The money rules of DESIGN.md, written again here (not imported) so that a mistake in
# settlement/money.py cannot hide in the model too.
def fee(notional, bps):
    return (notional * bps / 10_000).quantize(C4, "ROUND_FLOOR")


def buy_hold(qty, limit, bps):
    return qty * limit + (qty * limit * bps / 10_000).quantize(C4, "ROUND_CEILING")


def sell_bond(qty, price, rate):
    return (rate * qty * price).quantize(C4, "ROUND_CEILING")


def trade_bond(qty, price, rate):
    return (rate * qty * price).quantize(C4, "ROUND_FLOOR")


def penalty(bond, undelivered, qty):
    return (bond * undelivered / qty).quantize(C4, "ROUND_FLOOR")


@dataclass
class MOrder:
    pk: int
    who: int
    side: str
    price: Decimal
    remaining: Decimal
    expires_at: object = None


@dataclass
class MTrade:
    pk: int
    buyer: int
    seller: int
    qty: Decimal
    price: Decimal
    surcharge: Decimal
    buyer_bps: int
    seller_bps: int
    bond: Decimal
    delivered: Decimal | None = None
    status: str = "pending"


@dataclass
class Model:
    deposits: dict = field(default_factory=dict)
    orders: dict = field(default_factory=dict)
    trades: dict = field(default_factory=dict)
    # Net flows of settled trades per participant, and to the platform.
    settled_flow: dict = field(default_factory=dict)
    fees: Decimal = ZERO
    network: Decimal = ZERO


class LedgerMachine(RuleBasedStateMachine):
    trades = Bundle("trades")

    def __init__(self):
        super().__init__()
        n = next(_symbols)
        self.inst = make_instrument(symbol=f"STATE-{n}", opening="12.00", band="50")
        start = D(2_000)
        self.buyers = [
            make_buyer("CITY-SH", money=start),
            make_buyer("CLU-GUIAN", money=start),
        ]
        self.sellers = [
            make_seller("CLU-GUIAN", money=start, count=4),
            make_seller("CLU-WUHU", money=start, chip="nvidia-a100-80gb-sxm", count=4),
        ]
        self.m = Model()
        for p in self.buyers + self.sellers:
            self.m.deposits[p.pk] = start
            self.m.settled_flow[p.pk] = D(0)
        self.clock = timezone.now()

    # --- rules -------------------------------------------------------------------
    @rule(i=st.integers(0, 3), cents=st.integers(1, 5_000_00))
    def deposit(self, i, cents):
        p = (self.buyers + self.sellers)[i]
        fund(p, D(cents) / 100)
        self.m.deposits[p.pk] += D(cents) / 100

    @rule(
        target=trades,
        i=st.integers(0, 1),
        ticks=st.integers(900, 1600),
        lots=st.integers(1, 200),
        tif=st.sampled_from(["GTC", "IOC", "GTD"]),
    )
    def buy(self, i, ticks, lots, tif):
        return self._place(self.buyers[i], "buy", ticks, lots, tif)

    @rule(
        target=trades,
        i=st.integers(0, 1),
        ticks=st.integers(900, 1600),
        lots=st.integers(1, 200),
        tif=st.sampled_from(["GTC", "IOC", "GTD"]),
    )
    def sell(self, i, ticks, lots, tif):
        return self._place(self.sellers[i], "sell", ticks, lots, tif)

    def _place(self, who, side, ticks, lots, tif):
        price, qty = D(ticks) / 100, D(lots) / 10
        expires = self.clock + timedelta(hours=1) if tif == "GTD" else None
        try:
            placed = place(
                who,
                self.inst,
                side,
                str(qty),
                str(price),
                time_in_force=tif,
                expires_at=expires,
            )
        except (ExchangeError, DomainError):
            return multiple_none()
        self.m.orders[placed.order.pk] = MOrder(
            placed.order.pk, who.pk, side, price, qty, expires
        )
        new = [self._record_fill(t) for t in placed.fills]
        if tif == "IOC":
            self.m.orders[placed.order.pk].remaining = D(0)
        event("fills", len(new))
        return multiple_of(new)

    def _record_fill(self, t):
        buy, sell = self.m.orders[t.buy_order_id], self.m.orders[t.sell_order_id]
        assert t.all_in_price <= buy.price, "a buyer never pays above its limit"
        assert t.price >= sell.price, "a seller never gets below its ask"
        assert t.quantity <= min(buy.remaining, sell.remaining)
        buy.remaining -= t.quantity
        sell.remaining -= t.quantity
        bps = (self.inst.taker_fee_bps, self.inst.maker_fee_bps)
        buyer_bps, seller_bps = bps if t.aggressor == "buy" else bps[::-1]
        trade = MTrade(
            t.pk,
            buy.who,
            sell.who,
            t.quantity,
            t.price,
            t.surcharge,
            buyer_bps,
            seller_bps,
            trade_bond(t.quantity, sell.price, self.inst.bond_rate),
        )
        self.m.trades[t.pk] = trade
        return t.pk

    @rule(data=st.data())
    def cancel(self, data):
        live = sorted(pk for pk, o in self.m.orders.items() if o.remaining)
        if not live:
            return
        pk = data.draw(st.sampled_from(live))
        who = Order.objects.get(pk=pk).participant
        order_cancel(participant=who, order_id=pk)
        self.m.orders[pk].remaining = D(0)

    @rule()
    def expire(self):
        later = self.clock + timedelta(hours=1)
        lifecycle.orders_expire_run(now=later)
        for o in self.m.orders.values():
            if o.expires_at is not None and o.expires_at <= later:
                o.remaining = D(0)

    @rule(pk=trades, share=st.integers(0, 10))
    def report(self, pk, share):
        t = self.m.trades[pk]
        if t.status not in ("pending", "reported"):
            return
        delivered = (t.qty * share / 10).quantize(D("0.1"), "ROUND_DOWN")
        with transaction.atomic():
            services.delivery_report(
                participant=self._p(t.seller),
                trade_id=pk,
                delivered=delivered,
                now=self.inst.delivery_start + timedelta(hours=1),
            )
        t.delivered, t.status = delivered, "reported"

    @rule(pk=trades, share=st.integers(0, 10))
    def dispute_and_resolve(self, pk, share):
        t = self.m.trades[pk]
        if t.status not in ("pending", "reported"):
            return
        with transaction.atomic():
            services.delivery_dispute(
                participant=self._p(t.buyer),
                trade_id=pk,
                now=self.inst.delivery_end,
                reason="short",
            )
        delivered = (t.qty * share / 10).quantize(D("0.1"), "ROUND_DOWN")
        with transaction.atomic():
            services.dispute_resolve(
                trade_id=pk,
                delivered=delivered,
                resolved_by=self._p(t.buyer).user,
                now=self.inst.delivery_end,
            )
        t.delivered, t.status = delivered, "confirmed"

    @rule(pk=consumes(trades))
    def settle(self, pk):
        t = self.m.trades[pk]
        with transaction.atomic():
            assert services.trade_settle(trade_id=pk, now=self.inst.confirm_deadline_at)
        d = t.delivered if t.delivered is not None else D(0)
        all_in = t.price + t.surcharge
        bfee, sfee = fee(d * all_in, t.buyer_bps), fee(d * t.price, t.seller_bps)
        lost = penalty(t.bond, t.qty - d, t.qty)
        self.m.settled_flow[t.buyer] -= d * all_in + bfee - lost
        self.m.settled_flow[t.seller] += d * t.price - sfee - lost
        self.m.fees += bfee + sfee
        self.m.network += d * t.surcharge
        t.status = "settled"

    def _p(self, pk):
        return next(p for p in self.buyers + self.sellers if p.pk == pk)

    # --- the ledger matches the model ------------------------------------------
    @invariant()
    def ledger_matches_model(self):
        inst = self.inst
        held = {pk: D(0) for pk in self.m.deposits}
        bond = dict(held)
        escrow_by = dict(held)
        for o in self.m.orders.values():
            if not o.remaining:
                continue
            if o.side == "buy":
                bps = max(inst.maker_fee_bps, inst.taker_fee_bps)
                held[o.who] += buy_hold(o.remaining, o.price, bps)
            else:
                bond[o.who] += sell_bond(o.remaining, o.price, inst.bond_rate)
        escrow = D(0)
        for t in self.m.trades.values():
            if t.status == "settled":
                continue
            gross = t.qty * (t.price + t.surcharge)
            in_escrow = gross + fee(gross, t.buyer_bps)
            escrow += in_escrow
            escrow_by[t.buyer] += in_escrow
            bond[t.seller] += t.bond
        for pk in self.m.deposits:
            expected_available = (
                self.m.deposits[pk]
                - held[pk]
                - bond[pk]
                - escrow_by[pk]
                + self.m.settled_flow[pk]
            )
            assert self._bal(pk, "held") == held[pk]
            assert self._bal(pk, "bond") == bond[pk]
            assert self._bal(pk, "available") == expected_available, pk
        assert self._platform("escrow") == escrow
        assert self._platform("fees") == self.m.fees
        assert self._platform("network") == self.m.network

    def _bal(self, pk, kind):
        a = Account.objects.filter(participant_id=pk, kind=kind).first()
        return a.balance if a else D(0)

    def _platform(self, kind):
        a = Account.objects.filter(kind=kind, instrument=self.inst.symbol).first()
        return a.balance if a else D(0)


def multiple_of(values):
    from hypothesis.stateful import multiple

    return multiple(*values)


def multiple_none():
    from hypothesis.stateful import multiple

    return multiple()


LedgerMachine.TestCase.settings = settings(
    max_examples=20, stateful_step_count=30, deadline=None
)


def test_ledger_matches_model(db):
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(LedgerMachine, settings=LedgerMachine.TestCase.settings)
