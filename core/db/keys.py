"""Primary keys reserved ahead of the rows, so code can refer to a row (an order
from its events, a trade from its obligation) before it is written. In a consistent
snapshot, which writes nothing, the keys are stand-ins: negative, so never a row's,
and drawn from no sequence (a READ ONLY transaction could not draw them)."""

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

from core.db import vendor
from core.db.reads import Read, read_now


def ids_read(model: type[Model], count: int) -> Read:
    """`ids_reserve(model, count)` as a read that can go with others."""
    if count < 1 or not vendor.is_postgresql() or vendor.in_snapshot():
        return Read(None, parse=lambda _rows: ids_reserve(model, count))
    return Read(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [model._meta.db_table, model._meta.pk.column, count],
        lambda rows: [row[0] for row in rows],
    )


def ids_reserve(model: type[Model], count: int) -> list[int]:
    """`count` new primary keys for rows of `model` that this transaction inserts
    later (`rows_insert(..., with_pk=True)`). PostgreSQL draws them from the
    column's sequence (never handed out twice, rolled back or not). SQLite has one
    writer at a time (IMMEDIATE transactions), so the transaction advances
    `sqlite_sequence` itself; a rollback returns the keys."""
    if count < 1:
        return []
    if vendor.in_snapshot():
        return _stand_ins(count)
    if vendor.is_postgresql():
        return read_now(ids_read(model, count))
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor != "sqlite":
        raise NotImplementedError(f"ids_reserve on {conn.vendor}")
    table, column = model._meta.db_table, model._meta.pk.column
    with conn.cursor() as cursor:
        quoted_table, quoted_column = map(conn.ops.quote_name, (table, column))
        seq = "SELECT seq FROM sqlite_sequence WHERE name = %s"
        last_row = f"SELECT MAX({quoted_column}) FROM {quoted_table}"  # noqa: S608
        both = f"SELECT MAX(COALESCE(({seq}), 0), COALESCE(({last_row}), 0))"
        cursor.execute(both, [table])
        last = cursor.fetchone()[0]
        cursor.execute(
            "UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [last + count, table]
        )
        if not cursor.rowcount:
            cursor.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)",
                [table, last + count],
            )
    return list(range(last + 1, last + count + 1))


def _stand_ins(count: int) -> list[int]:
    """Keys for rows a snapshot plans and never writes, unique within it."""
    conn = connections[DEFAULT_DB_ALIAS]
    last = getattr(conn, _STAND_INS, 0)
    setattr(conn, _STAND_INS, last - count)
    return list(range(last - 1, last - count - 1, -1))


_STAND_INS = "yiwang_stand_in_keys"  # the last stand-in handed out, per connection
