"""Stream positions, as the SSE `id:` writes them and Last-Event-ID brings them back."""

import pytest

from exchange.streams.positions import (
    BadPosition,
    PrivatePosition,
    market_format,
    market_parse,
)


def test_a_market_position_round_trips_in_the_requests_order():
    points = market_parse("TRAIN-20261208:120.2, INFER-20261208:57.0")
    assert points == {"TRAIN-20261208": (120, 2), "INFER-20261208": (57, 0)}
    symbols = ["INFER-20261208", "CPU-1", "TRAIN-20261208"]
    assert market_format(symbols, points) == "INFER-20261208:57.0,TRAIN-20261208:120.2"


def test_a_private_position_round_trips():
    position = PrivatePosition(1_796_651_382_624, {7: (120, 2), 3: (9, 0)}, (5, 0, 11))
    text = position.format()
    assert text == "t1796651382624,i3.9.0,i7.120.2,s5.0.11"
    assert PrivatePosition.parse(text) == position


@pytest.mark.parametrize(
    "text", ["TRAIN:12", "TRAIN:a.b", "T R:1.0", "x" * 5000, "TRAIN:1.0;DROP"]
)
def test_a_malformed_market_position_is_refused(text):
    with pytest.raises(BadPosition):
        market_parse(text)


@pytest.mark.parametrize("text", ["i1.2.3", "t12,i1.2", "t12,q1.2.3", "TRAIN:1.0"])
def test_a_malformed_private_position_is_refused(text):
    with pytest.raises(BadPosition):
        PrivatePosition.parse(text)
