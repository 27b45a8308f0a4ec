"""The engine against the brute-force reference, on random markets and streams.

Every command goes to the engine, the reference, a book rebuilt from the engine's
open orders at random checkpoints, and a replica that only applies the engine's
events; all must return identical events and hold identical books and depth, and
after every command no two different participants' compatible orders are left
crossed, no order is filled beyond its quantity, and sequence numbers are gapless
(see `harness.Harness.check`).
"""

import os
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.exchange.engine.harness import Harness, markets, random_steps, steps

EXAMPLES = int(os.environ.get("ENGINE_HYPOTHESIS_EXAMPLES", "300"))
SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=SLOW_OK)
@given(
    market=markets(),
    rnd=st.randoms(use_true_random=False),
    length=st.integers(20, 150),
)
def test_engine_matches_reference_when_streams_are_realistic(market, rnd, length):
    """With realistic command weights, all four books agree after every command."""
    Harness(market).run(random_steps(rnd, length))


@settings(
    max_examples=max(EXAMPLES // 3, 20), deadline=None, suppress_health_check=SLOW_OK
)
@given(market=markets(), stream=steps)
def test_engine_matches_reference_when_streams_are_edge_cases(market, stream):
    """With Hypothesis' own (edge-leaning, shrinkable) streams, all books agree."""
    Harness(market).run(stream)


@settings(
    max_examples=max(EXAMPLES // 10, 10), deadline=None, suppress_health_check=SLOW_OK
)
@given(market=markets(), seed=st.integers(0, 2**32))
def test_engine_matches_reference_when_history_is_long(market, seed):
    """A 1,000-command history keeps all four books identical."""
    Harness(market).run(random_steps(random.Random(seed), 1_000))
