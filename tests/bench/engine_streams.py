"""Seeded command streams for the engine benchmark, as plain tuples every contender
can read: ("limit", oid, is_buy, price, qty), ("cancel", oid), and
("market", oid, is_buy, protection_price, qty), which is IOC at that price.

The single-market stream has one region and one stack; the network stream spreads
sells over 15 regions x 4 stacks and gives buyers origins and constraints; the
hardware stream sells from 45 clusters whose sells carry attributes (chip, TEE,
certifications, the provider's reliability) to buyers of eight signatures, half of
which ask for them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from exchange.engine import (
    Attributes,
    Constraints,
    Network,
    NewOrder,
    Side,
    TimeInForce,
)

MID = 10_000
Command = tuple[Any, ...]


@dataclass(frozen=True)
class Mix:
    limit: float = 0.70
    cancel: float = 0.20  # the rest is marketable


def single_market(n: int = 200_000, seed: int = 7, mix: Mix = Mix()) -> list[Command]:
    """70% limit orders around MID (about one in ten crosses a little), 20% cancels
    of recently placed orders (some already filled: a no-op for every engine),
    10% market orders."""
    rng = random.Random(seed)
    recent: list[int] = []  # cancel candidates: limit orders not yet cancelled
    out: list[Command] = []
    for oid in range(1, n + 1):
        roll = rng.random()
        if roll < mix.limit or (roll < mix.limit + mix.cancel and not recent):
            is_buy = rng.random() < 0.5
            depth = rng.randint(-3, 30)
            price = MID - depth if is_buy else MID + depth
            out.append(("limit", oid, is_buy, price, rng.randint(1, 10)))
            recent.append(oid)
            if len(recent) > 5_000:
                recent.pop(0)
        elif roll < mix.limit + mix.cancel:
            target = recent.pop(rng.randrange(len(recent)))
            out.append(("cancel", target))
        else:
            is_buy = rng.random() < 0.5
            protection = MID + 200 if is_buy else MID - 200
            out.append(("market", oid, is_buy, protection, rng.randint(5, 40)))
    return out


# -- the network stream --------------------------------------------------------

REGIONS = [f"r{i:02d}" for i in range(15)]
STACKS = ["CUDA", "CANN", "ROCm", "x86"]


def network(seed: int = 11) -> Network:
    """Surcharge 2 ticks per hop along a line of regions, latency 6 ms per hop; one
    pair in ten unlinked; green shares from 10% to 90%, a few unknown."""
    rng = random.Random(seed)
    surcharge: dict[tuple[str, str], int] = {}
    latency: dict[tuple[str, str], int] = {}
    for i, a in enumerate(REGIONS):
        for j, b in enumerate(REGIONS):
            if i != j and rng.random() < 0.9:
                surcharge[(a, b)] = 2 * abs(i - j)
                latency[(a, b)] = 6 * abs(i - j)
    green = {r: (None if rng.random() < 0.1 else rng.randint(10, 90)) for r in REGIONS}
    return Network(surcharge, latency, green)


def constraint_pool(seed: int = 13) -> list[Constraints]:
    rng = random.Random(seed)
    pool = [Constraints()]
    for _ in range(7):
        pool.append(
            Constraints(
                stacks=frozenset(rng.sample(STACKS, rng.randint(1, 3))),
                max_latency_ms=rng.choice([None, 30, 50, 80]),
                regions=rng.choice([None, frozenset(rng.sample(REGIONS, 8))]),
                min_green_share=rng.choice([None, None, 30, 50]),
            )
        )
    return pool


def networked(n: int = 200_000, seed: int = 7) -> list[NewOrder | Command]:
    """The single-market mix, with each order placed in a region: sells at a site
    and stack, buys from an origin with one of eight constraint signatures. Buys
    bid a little higher (all-in) to cover typical surcharges."""
    rng = random.Random(seed)
    pool = constraint_pool()
    out: list[NewOrder | Command] = []
    for cmd in single_market(n, seed):
        if cmd[0] == "cancel":
            out.append(cmd)
            continue
        kind, oid, is_buy, price, qty = cmd
        market = kind == "market"
        region = rng.choice(REGIONS)
        out.append(
            NewOrder(
                order_id=oid,
                participant_id=oid,
                side=Side.BUY if is_buy else Side.SELL,
                price=price + (8 if is_buy and not market else 0),
                quantity=qty,
                tif=TimeInForce.IOC if market else TimeInForce.GTC,
                region=region,
                stack=None if is_buy else rng.choice(STACKS),
                constraints=rng.choice(pool) if is_buy else None,
                market=market,
            )
        )
    return out


# -- the network stream with attributes ------------------------------------------------

# (chip, vendor, memory per chip GB, stack): the stack follows from the chip.
CHIPS = [
    ("h100", "NVIDIA", 80, "CUDA"),
    ("a800", "NVIDIA", 80, "CUDA"),
    ("h20", "NVIDIA", 96, "CUDA"),
    ("910b", "Huawei", 64, "CANN"),
    ("mi300x", "AMD", 192, "ROCm"),
    ("epyc", "AMD", None, "x86"),
]
CERTIFICATIONS = ["MLPS3", "ISO27001", "SOC2"]


def clusters(seed: int = 17, providers: int = 30) -> list[tuple[str, str, Attributes]]:
    """(region, stack, attributes) of 45 clusters of 30 providers: each provider
    has one reliability (0.80 to 0.99), one or two clusters, some with a TEE and
    certifications."""
    rng = random.Random(seed)
    out = []
    for p in range(providers):
        reliability = Decimal(rng.randint(80, 99)) / 100
        for _ in range(1 + (p % 2)):
            chip, vendor, memory, stack = rng.choice(CHIPS)
            attributes = Attributes(
                chip=chip,
                vendor=vendor,
                memory_gb=memory,
                confidential=rng.random() < 0.3,
                certifications=frozenset(
                    c for c in CERTIFICATIONS if rng.random() < 0.4
                ),
                reliability=reliability,
            )
            out.append((rng.choice(REGIONS), stack, attributes))
    return out[:45]


def hardware_pool(seed: int = 19) -> list[Constraints]:
    """Eight signatures, as many as the network stream's: four of those, and four
    asking for hardware and trust (chips, vendors, memory, a TEE, certifications,
    reliability), each drawn from a cluster that meets it, as buyers ask for what
    is on offer."""
    rng = random.Random(seed)
    pool = constraint_pool()[:4]
    for _ in range(4):
        _region, _stack, a = rng.choice(clusters())
        other = rng.choice(CHIPS)[0]
        tee = a.confidential and rng.random() < 0.5
        certified = a.certifications and rng.random() < 0.5
        pool.append(
            Constraints(
                max_latency_ms=rng.choice([None, 50, 80]),
                chips=rng.choice([None, frozenset({a.chip, other})]),
                vendors=rng.choice([None, frozenset({a.vendor, "Huawei"})]),
                min_memory_gb=rng.choice([None, a.memory_gb]),
                confidential=True if tee else None,
                certifications=a.certifications if certified else None,
                min_reliability=rng.choice([None, a.reliability - Decimal("0.05")]),
            )
        )
    return pool


def networked_hardware(n: int = 200_000, seed: int = 7) -> list[NewOrder | Command]:
    """The network stream, with sells from clusters that carry attributes and buys
    from eight signatures, half of them asking for hardware and trust."""
    rng = random.Random(seed)
    pool, sites = hardware_pool(), clusters()
    out: list[NewOrder | Command] = []
    for cmd in single_market(n, seed):
        if cmd[0] == "cancel":
            out.append(cmd)
            continue
        kind, oid, is_buy, price, qty = cmd
        market = kind == "market"
        region, stack, attributes = rng.choice(sites)
        out.append(
            NewOrder(
                order_id=oid,
                participant_id=oid,
                side=Side.BUY if is_buy else Side.SELL,
                price=price + (8 if is_buy and not market else 0),
                quantity=qty,
                tif=TimeInForce.IOC if market else TimeInForce.GTC,
                region=rng.choice(REGIONS) if is_buy else region,
                stack=None if is_buy else stack,
                constraints=rng.choice(pool) if is_buy else None,
                market=market,
                attributes=None if is_buy else attributes,
            )
        )
    return out
