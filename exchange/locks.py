"""Row locks, one helper per model. Order of acquisition: the instrument, then the
cluster (sells), then accounts (settlement's batch, all at once by primary key)."""

from django.db import connection

from exchange.exceptions import InvalidOrder
from exchange.models import Instrument
from market.db import Read, model_columns, models_from_rows, reads_together
from market.models import Cluster


# No select_related: the hot paths need only the instrument's own columns, and the
# published tables it refers to are immutable (see exchange.services.apply).
def instrument_for_update(instrument_id: int) -> Instrument:
    return Instrument.objects.select_for_update().get(pk=instrument_id)


def instruments_for_update_by_symbol(symbols: set[str]) -> dict[str, Instrument]:
    """Lock the instruments named in orders, in primary-key order like every
    multi-instrument lock; unknown symbols are missing from the answer."""
    if not symbols:  # every order of a group refused before the lock
        return {}
    return reads_together(instruments_for_update_read(symbols))[0]


def instruments_for_update_read(symbols: set[str]) -> Read:
    """`instruments_for_update_by_symbol` as a read that can go with others. Plain
    SQL: this runs once per order or batch, and the ORM's compiler cost more than
    the query."""
    return Read(
        _locking_select(Instrument, model_columns(Instrument), "symbol", len(symbols)),
        sorted(symbols),
        lambda rows: {i.symbol: i for i in models_from_rows(Instrument, rows)},
    )


def _locking_select(model, columns: str, key: str, count: int) -> str:
    """SELECT `columns` of the rows whose `key` is one of `count` values, locked in
    primary-key order (the order every multi-row lock takes)."""
    marks = ", ".join(["%s"] * count)
    sql = (
        f"SELECT {columns} FROM {model._meta.db_table} "  # noqa: S608
        f"WHERE {key} IN ({marks}) ORDER BY id"
    )
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    return sql


def unknown_instrument(symbol: str) -> InvalidOrder:
    message = f"Unknown instrument {symbol!r}."
    return InvalidOrder(message, fields={"instrument": [message]})


def cluster_for_update(cluster_id: int) -> Cluster:
    return (
        Cluster.objects.select_for_update(of=("self",))
        .select_related("chip", "region")
        .get(pk=cluster_id)
    )


def cluster_count_for_update(cluster_id: int) -> int:
    """Lock a cluster and read its chip count (all that can change on it)."""
    return reads_together(cluster_count_read(cluster_id))[0]


def cluster_count_read(cluster_id: int) -> Read:
    """`cluster_count_for_update` as a read that can go with others; plain SQL, once
    per sell."""
    sql = f"SELECT count FROM {Cluster._meta.db_table} WHERE id = %s"  # noqa: S608
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"

    def parse(rows: list) -> int:
        if not rows:  # deleted after the order named it
            raise missing_cluster(cluster_id)
        return rows[0][0]

    return Read(sql, [cluster_id], parse)


def missing_cluster(cluster_id: int) -> InvalidOrder:
    message = f"There is no cluster {cluster_id}."
    return InvalidOrder(message, fields={"cluster": [message]})


def clusters_count_read(cluster_ids: set[int]) -> Read:
    """Lock clusters, in primary-key order, and read their chip counts, as a read
    that can go with others: {cluster id: count}; a deleted cluster is missing."""
    sql = _locking_select(Cluster, "id, count", "id", len(cluster_ids))
    return Read(sql, sorted(cluster_ids), dict)
