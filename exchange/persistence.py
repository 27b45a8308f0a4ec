"""The exchange's own SQL: instruments locked by symbol, orders loaded by key, the
events a warm book missed, and clusters' commitments read and moved. Plain SQL where
the ORM's query compilation costs more than the statement (these run once per order
or command, under the instrument's lock); the backend differences are core.db's."""

import functools
from datetime import datetime
from decimal import Decimal

from django.db import connection

from core.db import (
    Read,
    execute_later,
    for_update,
    model_columns,
    models_from_rows,
    values_from_rows,
)
from exchange.models import (
    ClusterCommitment,
    Instrument,
    Order,
    OrderEvent,
    Trade,
    TradeCarbon,
)
from market.models import ChipModel, Cluster, Region
from settlement import interface as settlement

# (chips, window start, window end)
type Commitment = tuple[Decimal, datetime, datetime]


def instruments_lock_read(symbols: set[str]) -> Read:
    """Lock the instruments of `symbols` in primary-key order, like every
    multi-instrument lock: {symbol: Instrument}, unknown symbols missing."""
    marks = ", ".join(["%s"] * len(symbols))
    sql = (
        f"SELECT {model_columns(Instrument)} FROM {Instrument._meta.db_table} "  # noqa: S608
        f"WHERE symbol IN ({marks}) ORDER BY id{for_update()}"
    )
    return Read(
        sql,
        sorted(symbols),
        lambda rows: {i.symbol: i for i in models_from_rows(Instrument, rows)},
    )


def orders_by_id(ids: list[int]) -> list[Order]:
    """Orders by key, as the ORM builds them (converters applied)."""
    marks = ", ".join(["%s"] * len(ids))
    sql = f"SELECT * FROM {Order._meta.db_table} WHERE id IN ({marks})"  # noqa: S608
    return list(Order.objects.raw(sql, ids))


def events_after_read(instrument_id: int, after: int, limit: int) -> Read:
    """At most `limit` + 1 of the instrument's events after sequence `after`, as
    (kind, sequence, order id, data)."""
    meta = OrderEvent._meta
    fields = [meta.get_field(name) for name in ("kind", "sequence", "order", "data")]
    sql = (
        f"SELECT kind, sequence, order_id, data FROM {meta.db_table} "  # noqa: S608
        "WHERE instrument_id = %s AND sequence > %s ORDER BY sequence LIMIT %s"
    )
    return Read(
        sql,
        [instrument_id, after, limit + 1],
        lambda rows: values_from_rows(rows, fields),
    )


def commitments_read(cluster_id: int, start: datetime, end: datetime) -> Read:
    """What the cluster's written sells commit per instrument whose window overlaps
    [start, end), from the kept sums: [Commitment]."""
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
    moment = fields[1].get_db_prep_value
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
    clusters = ", ".join(["%s"] * len(cluster_ids))
    names = ", ".join(["%s"] * len(symbols))
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


def commitments_move_later(instrument_id: int, deltas: dict[int, Decimal]) -> None:
    """Move each cluster's commitment in the instrument by its delta (an upsert:
    the instrument's lock serializes them)."""
    table = ClusterCommitment._meta.db_table
    chips = ClusterCommitment._meta.get_field("chips")
    values = ", ".join(["(%s, %s, %s)"] * len(deltas))
    params = []
    for cluster_id, delta in deltas.items():
        params += [cluster_id, instrument_id, chips.get_db_prep_save(delta, connection)]
    execute_later(
        f"INSERT INTO {table} (cluster_id, instrument_id, chips) "  # noqa: S608
        f"VALUES {values} ON CONFLICT (cluster_id, instrument_id) "
        f"DO UPDATE SET chips = {table}.chips + excluded.chips",
        params,
    )


def carbon_inputs_by_trade(trade_ids: list[int]) -> list[tuple]:
    """Per trade, what its carbon is computed from, in the order of
    `exchange.marketdata.carbon.CARBON_FIELDS` (the queryset of
    `with_carbon_inputs` reads the same; tested equal)."""
    select, fields = _carbon_select()
    marks = ", ".join(["%s"] * len(trade_ids))
    with connection.cursor() as cursor:
        cursor.execute(f"{select} WHERE t.id IN ({marks})", list(trade_ids))
        return values_from_rows(cursor.fetchall(), fields)


@functools.cache
def _carbon_select() -> tuple[str, list]:
    """The SELECT of the carbon inputs of trades aliased `t`, and the fields of its
    columns, for their converters."""
    quote = connection.ops.quote_name

    def table(model) -> str:
        return quote(model._meta.db_table)

    def column(model, name: str) -> str:
        return quote(model._meta.get_field(name).column)

    delivered_sql, delivered_field = settlement.delivered_quantity_select("t.id")
    fields = [
        Trade._meta.get_field("id"),
        Trade._meta.get_field("quantity"),
        delivered_field,
        TradeCarbon._meta.get_field("kg_per_scu_h"),
        TradeCarbon._meta.get_field("trade"),
        ChipModel._meta.get_field("tdp_w"),
        Cluster._meta.get_field("chip"),
        Instrument._meta.get_field("conversion_table"),
        Instrument._meta.get_field("profile"),
        Region._meta.get_field("pue"),
        Region._meta.get_field("carbon_intensity_kg_per_kwh"),
    ]
    trade_id = column(TradeCarbon, "trade")
    chip_id = column(Cluster, "chip")
    sql = (
        f"SELECT t.id, t.{column(Trade, 'quantity')}, ({delivered_sql}), "  # noqa: S608
        f"c.{column(TradeCarbon, 'kg_per_scu_h')}, c.{trade_id}, "
        f"chip.{column(ChipModel, 'tdp_w')}, cl.{chip_id}, "
        f"i.{column(Instrument, 'conversion_table')}, "
        f"i.{column(Instrument, 'profile')}, "
        f"r.{column(Region, 'pue')}, r.{column(Region, 'carbon_intensity_kg_per_kwh')} "
        f"FROM {table(Trade)} t "
        f"JOIN {table(Order)} so ON so.id = t.{column(Trade, 'sell_order')} "
        f"JOIN {table(Instrument)} i ON i.id = t.{column(Trade, 'instrument')} "
        f"JOIN {table(Region)} r ON r.id = t.{column(Trade, 'sell_region')} "
        f"LEFT JOIN {table(Cluster)} cl ON cl.id = so.{column(Order, 'cluster')} "
        f"LEFT JOIN {table(ChipModel)} chip ON chip.id = cl.{chip_id} "
        f"LEFT JOIN {table(TradeCarbon)} c ON c.{trade_id} = t.id"
    )
    return sql, fields
