"""Cluster capacity: a sell commits `qty / (factor x window hours)` chips for its whole
window, and at every instant the chips committed by a cluster's open and filled sells,
across instruments and profiles, stay within its count.

This module owns commitments: what a sell commits, what a cluster's written sells
commit (the kept sums, `ClusterCommitment`), the tally of a unit of work's own sells
beside them, and moving the kept sums when sells change. Callers hold the cluster's
row lock (taken by `reads`, after the instrument's) when they check.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.db import Read, read_now, reads_together
from exchange.exceptions import InsufficientCapacity, InvalidOrder
from exchange.models import Instrument, Order
from exchange.persistence import (
    Commitment,
    commitments_by_symbol_read,
    commitments_move_later,
    commitments_read,
)
from market.exceptions import NoConversionFactor
from market.models import Cluster
from market.persistence import clusters_count_read
from market.selectors import cluster_chip_id, table_factor

CHIP_PLACES = Decimal("0.000000001")
LOT = Decimal("0.1")


def committed_chips(quantity: Decimal, factor: Decimal, hours: Decimal) -> Decimal:
    """Chips a sell of `quantity` SCU-h commits over its window, rounded up."""
    return (quantity / (factor * hours)).quantize(CHIP_PLACES, rounding="ROUND_CEILING")


def factor_for(*, cluster: Cluster, instrument: Instrument) -> Decimal:
    factor = table_factor(
        instrument.conversion_table_id, instrument.profile_id, cluster.chip_id
    )
    if factor is None:
        raise NoConversionFactor(
            f"{cluster.chip.code} has no {instrument.profile.code} conversion factor "
            f"in table v{instrument.conversion_table.version}: it cannot sell "
            f"{instrument.symbol}."
        )
    return factor


def peak_commitment(
    *, cluster: Cluster, start: datetime, end: datetime, rows: list | None = None
) -> Decimal:
    """The most chips the cluster's sells commit at any instant of [start, end):
    its written sells' (read now, unless the caller passes the `rows` it read),
    and those of `rows` the caller adds."""
    if rows is None:
        rows = read_now(commitments_read(cluster.pk, start, end))
    rows = [(c, s, e) for c, s, e in rows if s < end and e > start]
    # The sum of overlapping windows only grows at a window's start, so checking the
    # new window's start and every start inside it finds the peak.
    instants = {start} | {s for _c, s, _e in rows if s > start}
    return max(
        (sum((c for c, s, e in rows if s <= t < e), Decimal(0)) for t in instants),
        default=Decimal(0),
    )


def reads(cluster_ids: set[int], symbols: set[str]) -> dict[str, Read]:
    """The reads a `Tally` is made of, to send after the instruments' lock: the
    clusters locked with their counts, and what they commit in each window."""
    if not cluster_ids:
        return {}
    return {
        "counts": clusters_count_read(cluster_ids),
        "written": commitments_by_symbol_read(cluster_ids, symbols),
    }


@dataclass
class Tally:
    """What a unit of work knows of its sells' clusters: their counts and
    commitments as read under their locks, and what its own sells commit."""

    counts: dict[int, int] = field(default_factory=dict)
    written: dict[tuple[int, str], list[Commitment]] = field(default_factory=dict)
    pending: dict[int, list[Commitment]] = field(
        default_factory=lambda: defaultdict(list)
    )

    @classmethod
    def from_reads(cls, answers: Mapping[str, Any]) -> "Tally":
        return cls(answers.get("counts", {}), answers.get("written", {}))

    @classmethod
    def read(cls, cluster_ids: set[int], symbols: set[str]) -> "Tally":
        """Lock the clusters and read them (caller holds the instruments' lock)."""
        return cls.from_reads(reads_together(reads(cluster_ids, symbols)))

    def check(
        self, order: Order, instrument: Instrument, *, replacing: Decimal = Decimal(0)
    ) -> None:
        """Set what the sell commits for its quantity, and raise unless that fits
        beside what the cluster already commits (less `replacing`, the chips of the
        order being resized)."""
        cluster = order.cluster  # chip and region resolved before the lock
        if cluster.pk not in self.counts:
            message = f"There is no cluster {cluster.pk}."
            raise InvalidOrder(message, fields={"cluster": [message]})
        cluster.count = self.counts[cluster.pk]
        factor = factor_for(cluster=cluster, instrument=instrument)
        hours = instrument.hours
        order.committed_chips = committed_chips(order.quantity, factor, hours)
        start, end = instrument.delivery_start, instrument.delivery_end
        rows = [
            *self.written.get((cluster.pk, instrument.symbol), []),
            *self.pending[cluster.pk],
            (-replacing, start, end),
        ]
        used = peak_commitment(cluster=cluster, start=start, end=end, rows=rows)
        if used + order.committed_chips > cluster.count:
            free = max(cluster.count - used, Decimal(0))
            raise InsufficientCapacity(
                f"Cluster {cluster.name} has {free.normalize()} of {cluster.count} "
                f"chips free in this window; the order needs "
                f"{order.committed_chips.normalize()}."
            )

    def add(self, order: Order, kept: Decimal, instrument: Instrument) -> None:
        """Count a checked sell that keeps `kept` SCU-h after matching (filled or
        resting) beside the cluster's written sells."""
        factor = factor_for(cluster=order.cluster, instrument=instrument)
        self.pending[order.cluster_id].append(
            (
                committed_chips(kept, factor, instrument.hours),
                instrument.delivery_start,
                instrument.delivery_end,
            )
        )


@dataclass
class Moves:
    """How a command's sells change what their clusters commit in its instrument:
    each sell's chips before the command, and after it (`recommit`)."""

    instrument: Instrument
    before: dict[int, Decimal] = field(default_factory=dict)

    def note(self, order: Order) -> None:
        """Remember what a written sell commits before the command changes it."""
        if order.side == Order.Side.SELL:
            self.before.setdefault(order.pk, order.committed_chips)

    def recommit(self, order: Order) -> None:
        """A sell commits what it keeps (filled plus remaining) from now on."""
        inst = self.instrument
        chip = cluster_chip_id(order.cluster_id)
        factor = table_factor(inst.conversion_table_id, inst.profile_id, chip)
        if factor is None:  # placement checked it; only a broken table gets here
            raise RuntimeError(f"no factor for chip {chip} in {inst}")
        kept = order.filled_quantity + order.remaining_quantity
        order.committed_chips = committed_chips(kept, factor, inst.hours)

    def write(self, orders: list[Order]) -> None:
        """Move each cluster's kept sum by what its sells' chips moved."""
        deltas: dict[int, Decimal] = {}
        for order in orders:
            if order.side != Order.Side.SELL:
                continue
            moved = order.committed_chips - self.before.get(order.pk, Decimal(0))
            if moved:
                deltas[order.cluster_id] = deltas.get(order.cluster_id, 0) + moved
        if deltas:
            commitments_move_later(self.instrument.pk, deltas)


def windows_committed(cluster: Cluster, windows: list[dict]) -> None:
    """Add to each of a cluster's capacity rows (`selectors.cluster_capacities`)
    what its sells commit of it, in SCU-h (the most chips committed at any instant
    of the window, rounded up to the lot), and what is free. A read: no lock."""
    for row in windows:
        chips = peak_commitment(
            cluster=cluster, start=row["delivery_start"], end=row["delivery_end"]
        )
        committed = chips * row["factor"] * row["hours"]
        row["committed"] = committed.quantize(LOT, rounding="ROUND_CEILING")
        row["free"] = max(row["scu_h"] - row["committed"], Decimal("0.0"))
