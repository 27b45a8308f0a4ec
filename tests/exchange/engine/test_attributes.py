"""Buyers get what they ask for: a sell's attributes (chip, vendor, memory per chip,
TEE, certifications, its provider's reliability) against a buy's constraints, in the
engine alone. Hand-written situations first, then Hypothesis: no fill ever violates
a constraint of its buy, and `Network.exclusions` names a rule exactly when `route`
refuses the pair."""

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange.engine import (
    Amended,
    Attributes,
    Book,
    Constraints,
    Fill,
    Network,
)
from tests.exchange.engine.harness import (
    CHIPS,
    Harness,
    attributes_any,
    constraints_in,
    markets,
    random_steps,
)
from tests.exchange.engine.test_scenarios import NETWORK, NOW, book_with, buy, sell

H100 = Attributes("h100", "nvidia", 80, reliability=95)
H100_TEE = Attributes(
    "h100", "nvidia", 80, True, frozenset({"MLPS3", "ISO27001"}), reliability=95
)
ASCEND = Attributes("910b", "huawei", 64, reliability=99)
FLAKY = Attributes("h100", "nvidia", 80, reliability=85)


def fills(events):
    return [e for e in events if isinstance(e, Fill)]


def sold_to(book, constraints, qty=10, price=200):
    """The sell order ids an incoming buy fills from, in order."""
    events = book.place(buy(99, price, qty, constraints=constraints), NOW)
    return [f.sell_order_id for f in fills(events)]


def test_min_memory_when_a_cheaper_small_chip_is_better_all_in_fills_from_80gb():
    """A 64 GB ask cheaper all-in than the 80 GB one is skipped by a bid that needs
    80 GB per chip; an unconstrained bid takes it first."""
    book = book_with(
        sell(1, 90, attributes=ASCEND), sell(2, 100, region="north", attributes=H100)
    )
    assert sold_to(book, Constraints(min_memory_gb=80), qty=5) == [2]
    assert sold_to(book, Constraints(), qty=5) == [1]


def test_chips_and_vendors_when_other_models_are_cheaper_skip_them():
    book = book_with(sell(1, 90, attributes=ASCEND), sell(2, 100, attributes=H100))
    assert sold_to(book, Constraints(chips=frozenset({"h100"})), qty=3) == [2]
    assert sold_to(book, Constraints(vendors=frozenset({"huawei"})), qty=3) == [1]


def test_confidential_and_certifications_when_unmet_never_trade():
    """A TEE bid fills only from a TEE sell; certifications are all required."""
    book = book_with(sell(1, 90, attributes=H100), sell(2, 100, attributes=H100_TEE))
    assert sold_to(book, Constraints(confidential=True), qty=3) == [2]
    both = Constraints(certifications=frozenset({"MLPS3", "ISO27001"}))
    assert sold_to(book, both, qty=3) == [2]
    more = Constraints(certifications=frozenset({"MLPS3", "SOC2"}))
    assert sold_to(book, more, qty=3) == []


def test_min_reliability_when_the_cheap_provider_is_flaky_fills_from_the_reliable():
    book = book_with(sell(1, 90, attributes=FLAKY), sell(2, 100, attributes=H100))
    assert sold_to(book, Constraints(min_reliability=90), qty=3) == [2]
    assert sold_to(book, Constraints(min_reliability=85), qty=3) == [1]


def test_attribute_constraints_when_a_sell_has_no_attributes_fail():
    """Unknown attributes meet no attribute constraint (like an unknown green
    share), and a chip of unpublished memory meets no memory minimum."""
    book = book_with(
        sell(1, 90), sell(2, 95, attributes=Attributes("l40", "nvidia", None))
    )
    assert sold_to(book, Constraints(vendors=frozenset({"nvidia"})), qty=3) == [2]
    assert sold_to(book, Constraints(min_memory_gb=1), qty=3) == []
    assert sold_to(book, Constraints(min_reliability=0), qty=3) == []


def test_incoming_sell_when_resting_buys_constrain_skips_them():
    """The same rules for an incoming sell against resting buys: it passes over
    the best bid it does not meet."""
    book = book_with(
        buy(1, 120, constraints=Constraints(min_memory_gb=80)),
        buy(2, 110, constraints=Constraints(confidential=True)),
        buy(3, 100),
    )
    events = book.place(sell(9, 90, 30, attributes=ASCEND), NOW)
    assert [f.buy_order_id for f in fills(events)] == [3]
    events = book.place(sell(10, 90, 30, attributes=H100_TEE), NOW)
    assert [f.buy_order_id for f in fills(events)] == [1, 2]


def test_amend_when_it_loses_priority_takes_new_attributes():
    """A sell keeps its bucket while it keeps its place; an amend that loses the
    place takes the provider's new score, and trades with what it now meets."""
    book = book_with(sell(1, 100, attributes=FLAKY))
    picky = Constraints(min_reliability=90)
    book.place(buy(2, 95, 5, constraints=picky), NOW)
    kept = book.amend(1, NOW, remaining=5, attributes=H100)  # smaller: keeps place
    assert kept == [Amended(kept[0].seq, 1, 100, 5, kept[0].priority_seq)]
    assert book.get(1).attributes == FLAKY
    events = book.amend(1, NOW, price=95, attributes=H100)
    assert isinstance(events[0], Amended)
    assert events[0].attributes == H100
    assert [(f.buy_order_id, f.sell_order_id) for f in fills(events)] == [(2, 1)]


def test_replay_when_an_amend_brought_new_attributes_moves_the_sell_too():
    """A replica that applies the events puts the amended sell in its new bucket:
    an attribute-constrained buy then fills from it in both books alike."""
    live = Book(NETWORK)
    log = live.place(sell(1, 100, attributes=FLAKY), NOW)
    log += live.amend(1, NOW, price=99, attributes=H100)
    replica = Book(NETWORK)
    replica.apply(log)
    assert replica.orders() == live.orders()
    picky = buy(2, 120, 1, constraints=Constraints(min_reliability=90))
    events = live.place(picky, NOW)
    assert fills(events)
    assert replica.place(picky, NOW) == events


def test_amend_when_attributes_are_given_for_a_buy_is_invalid():
    book = book_with(buy(1, 100))
    assert book.amend(1, NOW, price=101, attributes=H100)[0].code == "invalid"


def test_buy_when_it_carries_attributes_is_invalid():
    book = Book(NETWORK)
    assert book.place(buy(1, 100, attributes=H100), NOW)[0].code == "invalid"


def test_asks_when_attributes_differ_merge_by_price_region_and_stack():
    book = book_with(sell(1, 90, 3, attributes=H100), sell(2, 90, 4, attributes=FLAKY))
    assert [tuple(level) for level in book.asks()] == [(90, "east", "CUDA", 7)]


# --- properties --------------------------------------------------------------------
def _meets(a: Attributes | None, c: Constraints) -> bool:
    """Each attribute constraint, written out once more for the property."""
    checks = [
        c.chips is None or (a is not None and a.chip in c.chips),
        c.vendors is None or (a is not None and a.vendor in c.vendors),
        c.min_memory_gb is None
        or (a is not None and (a.memory_gb or 0) >= c.min_memory_gb > 0),
        not c.confidential or (a is not None and a.confidential),
        not c.certifications
        or (a is not None and all(x in a.certifications for x in c.certifications)),
        c.min_reliability is None
        or (a is not None and (a.reliability or -1) >= c.min_reliability),
    ]
    return all(checks)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(market=markets(), seed=st.integers(0, 2**32))
def test_fills_when_constraints_are_random_never_violate_a_buy_constraint(market, seed):
    """However orders arrive, amend and cancel, every fill's sell (with the
    attributes it then traded with) meets every constraint of its buy."""
    harness = Harness(market)
    specs: dict = {}
    for dt, cmd in random_steps(random.Random(seed), 200):
        harness.now += dt
        for event in harness.step(cmd):
            if hasattr(event, "order") and hasattr(event, "seq"):
                specs[event.order_id] = event.order
            elif isinstance(event, Amended) and event.attributes is not None:
                specs[event.order_id] = specs[event.order_id]._replace(
                    attributes=event.attributes
                )
            elif isinstance(event, Fill):
                b, s = specs[event.buy_order_id], specs[event.sell_order_id]
                assert _meets(s.attributes, b.constraints), (b, s)


def test_fills_when_many_streams_run_include_attribute_constrained_ones():
    """The property above is not vacuous: over a few seeded markets, fills of buys
    with attribute constraints happen."""
    constrained = 0
    for seed in range(8):
        rng = random.Random(seed)
        harness = Harness(_seeded_market(rng))
        for dt, cmd in random_steps(rng, 300):
            harness.now += dt
            for event in harness.step(cmd):
                if isinstance(event, Fill):
                    buy_spec = harness.specs[event.buy_order_id]
                    c = buy_spec.constraints
                    constrained += c.chips is not None or c.min_reliability is not None
    assert constrained > 0


def _seeded_market(rng: random.Random):
    """A market whose buyers mostly ask for attributes (for the test above)."""
    from tests.exchange.engine.harness import REGIONS, STACKS, Market

    network = Network({("east", "north"): 1, ("north", "east"): 1})
    chips = sorted(CHIPS)
    pool = [
        Constraints(chips=frozenset(rng.sample(chips, 2))),
        Constraints(min_reliability=rng.randint(85, 95)),
        Constraints(),
    ]
    attributes = [
        Attributes(c, *CHIPS[c], reliability=rng.randint(80, 100)) for c in chips
    ]
    return Market(network, REGIONS[:2], STACKS[:1], pool, attributes)


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    attributes=st.one_of(st.none(), attributes_any()),
)
def test_exclusions_when_route_refuses_name_a_rule(data, attributes):
    """`exclusions` is empty exactly when `route` gives a surcharge."""
    net = Network(
        {("west", "east"): 5},
        {("west", "east"): 40},
        {"west": 80, "east": None},
    )
    constraints = data.draw(constraints_in(["west", "east"], ["CUDA", "CANN"]))
    sell_region = data.draw(st.sampled_from(["west", "east", "north"]))
    stack = data.draw(st.sampled_from(["CUDA", "CANN"]))
    route = net.route(sell_region, stack, attributes, "east", constraints)
    reasons = net.exclusions(sell_region, stack, attributes, "east", constraints)
    assert (route is None) == bool(reasons), (route, reasons)
    assert not (_meets(attributes, constraints) and set(reasons) & _ATTRIBUTE_RULES)


_ATTRIBUTE_RULES = {
    "chip",
    "vendor",
    "memory",
    "confidential",
    "certifications",
    "reliability",
}
