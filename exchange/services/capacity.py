"""Cluster capacity: a sell commits `qty / (factor x window hours)` chips for its whole
window, and at every instant the chips committed by a cluster's open and filled sells,
across instruments and profiles, stay within its count."""

import functools
from datetime import datetime
from decimal import Decimal

from django.db import connection

from exchange.exceptions import InsufficientCapacity
from exchange.models import ClusterCommitment, Instrument, Order
from market.db import Read, reads_together, values_from_rows
from market.exceptions import NoConversionFactor
from market.models import Cluster, ConversionFactor

# (chips, window start, window end)
type Commitment = tuple[Decimal, datetime, datetime]


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


@functools.lru_cache(maxsize=8192)
def table_factor(table_id: int, profile_id: int, chip_id: int) -> Decimal | None:
    """A published factor (tables are immutable, so each process may keep them)."""
    return (
        ConversionFactor.objects.filter(
            table_id=table_id, profile_id=profile_id, chip_id=chip_id
        )
        .values_list("factor", flat=True)
        .first()
    )


def peak_commitment(
    *,
    cluster: Cluster,
    start: datetime,
    end: datetime,
    exclude_order: int | None = None,
    pending: list[Commitment] | None = None,
    known: list[Commitment] | None = None,
) -> Decimal:
    """The most chips the cluster's sells commit at any instant of [start, end),
    counting `pending` sells not written yet. A caller that read the `commitments`
    under the cluster's lock already passes them as `known`."""
    if known is None:
        known = commitments(
            cluster=cluster, start=start, end=end, exclude_order=exclude_order
        )
    rows = known + [(c, s, e) for c, s, e in pending or () if s < end and e > start]
    # The sum of overlapping windows only grows at a window's start, so checking the
    # new window's start and every start inside it finds the peak.
    instants = {start} | {s for _c, s, _e in rows if s > start}
    return max(
        (sum((c for c, s, e in rows if s <= t < e), Decimal(0)) for t in instants),
        default=Decimal(0),
    )


def commitments(
    *,
    cluster: Cluster,
    start: datetime,
    end: datetime,
    exclude_order: int | None = None,
) -> list[Commitment]:
    """What the cluster's written sells commit, per instrument whose window overlaps
    [start, end), from the kept sums (`ClusterCommitment`); without `exclude_order`
    (an order being resized)."""
    [rows] = reads_together(commitments_read(cluster.pk, start, end))
    if exclude_order is not None:
        excluded = (
            Order.objects.filter(pk=exclude_order, cluster=cluster)
            .values_list(
                "committed_chips",
                "instrument__delivery_start",
                "instrument__delivery_end",
            )
            .first()
        )
        if excluded is not None and excluded[1] < end and excluded[2] > start:
            rows.append((-excluded[0], excluded[1], excluded[2]))
    return rows


def commitments_read(cluster_id: int, start: datetime, end: datetime) -> Read:
    """`commitments` (without an excluded order) as a read that can go with others,
    in plain SQL: once per sell, where the ORM's compiler cost more than the query."""
    kept, inst = ClusterCommitment._meta, Instrument._meta
    fields = [
        kept.get_field("chips"),
        inst.get_field("delivery_start"),
        inst.get_field("delivery_end"),
    ]
    sql = (
        f"SELECT c.chips, i.delivery_start, i.delivery_end FROM {kept.db_table} c "  # noqa: S608
        f"JOIN {inst.db_table} i ON i.id = c.instrument_id "
        "WHERE c.cluster_id = %s AND c.chips > 0 "
        "AND i.delivery_start < %s AND i.delivery_end > %s"
    )

    moment = fields[1].get_db_prep_value  # SQLite keeps times as text
    return Read(
        sql,
        [cluster_id, moment(end, connection), moment(start, connection)],
        lambda rows: [tuple(values) for values in values_from_rows(rows, fields)],
    )


def commitments_by_symbol_read(cluster_ids: set[int], symbols: set[str]) -> Read:
    """`commitments_read` for every pair of these clusters and instruments, each
    instrument's window read from its row in the same statement (so it can go in
    the round trip that locks the instruments): {(cluster id, symbol): [...]}, a
    pair with nothing committed missing."""
    kept, inst = ClusterCommitment._meta, Instrument._meta
    fields = [
        kept.get_field("cluster"),
        inst.get_field("symbol"),
        kept.get_field("chips"),
        inst.get_field("delivery_start"),
        inst.get_field("delivery_end"),
    ]
    clusters, names = (
        ", ".join(["%s"] * len(cluster_ids)),
        ", ".join(["%s"] * len(symbols)),
    )
    sql = (
        f"SELECT c.cluster_id, w.symbol, c.chips, i.delivery_start, i.delivery_end "  # noqa: S608
        f"FROM {kept.db_table} c JOIN {inst.db_table} i ON i.id = c.instrument_id "
        f"JOIN {inst.db_table} w ON w.symbol IN ({names}) "
        "AND i.delivery_start < w.delivery_end AND i.delivery_end > w.delivery_start "
        f"WHERE c.cluster_id IN ({clusters}) AND c.chips > 0"
    )

    def parse(rows: list) -> dict[tuple[int, str], list[Commitment]]:
        out: dict[tuple[int, str], list[Commitment]] = {}
        for cluster_id, symbol, *commitment in values_from_rows(rows, fields):
            out.setdefault((cluster_id, symbol), []).append(tuple(commitment))
        return out

    return Read(sql, [*sorted(symbols), *sorted(cluster_ids)], parse)


def capacity_check(
    *,
    cluster: Cluster,
    instrument: Instrument,
    chips: Decimal,
    exclude_order: int | None = None,
    pending: list[Commitment] | None = None,
    known: list[Commitment] | None = None,
) -> None:
    """Raise InsufficientCapacity unless `chips` more fit in the cluster for the
    instrument's window. Caller holds the cluster's row lock."""
    used = peak_commitment(
        cluster=cluster,
        start=instrument.delivery_start,
        end=instrument.delivery_end,
        exclude_order=exclude_order,
        pending=pending,
        known=known,
    )
    if used + chips > cluster.count:
        free = max(cluster.count - used, Decimal(0))
        raise InsufficientCapacity(
            f"Cluster {cluster.name} has {free.normalize()} of {cluster.count} chips "
            f"free in this window; the order needs {chips.normalize()}."
        )
