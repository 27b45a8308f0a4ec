"""The engine's internal housekeeping, pushed past its thresholds, still agrees with
the brute-force reference: compaction of cancelled entries inside a price level,
and garbage collection of empty buckets (with the route lists that name them)."""

import random

from exchange.engine import Constraints, Network, Side, TimeInForce
from tests.exchange.engine.harness import Harness, Market, random_steps

BUY, SELL = Side.BUY, Side.SELL
NETWORK = Network(
    surcharge={("east", "west"): 3, ("west", "east"): 3, ("north", "east"): 1},
    latency_ms={("east", "west"): 30, ("west", "east"): 30, ("north", "east"): 10},
    green_share={"east": 40, "west": 90},
)


def _place(side, pid, offset, qty=1, *, si=0):
    # ("place", side, participant, price offset, qty, tif, kind, life, region,
    #  stack/constraints index, mutation): see harness.build_order
    return ("place", side, pid, offset, qty, TimeInForce.GTC, 0, 0, 0, si, 0)


def test_level_when_most_of_it_is_cancelled_behind_its_head_keeps_time_order():
    """Cancelling 80 of 120 orders queued behind a live head compacts the level;
    the survivors still trade oldest first, exactly as the reference says."""
    regions, stacks = ["east", "west", "north"], ["CUDA", "CANN"]
    market = Market(NETWORK, regions, stacks, [Constraints()])
    harness = Harness(market)
    for i in range(121):
        harness.step(_place(SELL, 1 + i % 3, 10))
    rng = random.Random(5)
    for order_id in rng.sample(range(2, 122), 80):
        harness.live.cancel(order_id, harness.now)  # keep the reference in step:
        harness.ref.cancel(order_id, harness.now)
        harness.restored.cancel(order_id, harness.now)
        harness.replica.cancel(order_id, harness.now)
    harness.step(("checkpoint",))
    events = harness.step(_place(BUY, 9, 6, 30))
    assert sum(getattr(e, "quantity", 0) for e in events[1:]) == 30


def test_buckets_when_many_signatures_come_and_go_are_collected_safely():
    """Two hundred constraint signatures, most of them emptied again, make the
    engine drop empty buckets and relink routes; matching stays identical."""
    rng = random.Random(3)
    pool = [Constraints()] + [
        Constraints(
            max_latency_ms=rng.randint(0, 60),
            min_green_share=rng.choice([None, 10, 50]),
            stacks=rng.choice([None, frozenset({"CUDA"})]),
        )
        for _ in range(200)
    ]
    market = Market(NETWORK, ["east", "west", "north"], ["CUDA", "CANN"], pool)
    harness = Harness(market)
    harness.run(random_steps(rng, 3_000, signatures=len(pool)))
    assert len(harness.live._buys) < len(pool)
