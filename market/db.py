"""Small SQL helpers for the hot paths, where the ORM's query compilation (or the
client-side composition of a long statement) costs more than the statement itself."""

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model


def rows_insert(
    objs: Sequence[Model], *, with_pk: bool = False, returning: bool = False
) -> None:
    """INSERT new rows of one model in one statement (so statement-level checks see
    them all; from COPY_FROM rows on PostgreSQL, a COPY), values prepared the way
    `save()` prepares them (auto_now_add included). Primary keys: reserved with
    `ids_reserve` (`with_pk`), read back into the objects (`returning`: PostgreSQL
    and SQLite >= 3.35 return them in VALUES order, as Django's bulk_create relies
    on), or neither, for rows nothing refers to later in the same unit of work."""
    if not objs:
        return
    meta = objs[0]._meta
    fields = [f for f in meta.concrete_fields if with_pk or not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    table = connection.ops.quote_name(meta.db_table)
    params = [
        f.get_db_prep_save(f.pre_save(obj, True), connection)
        for obj in objs
        for f in fields
    ]
    if connection.vendor == "postgresql" and not returning and len(objs) >= COPY_FROM:
        _copy(table, columns, len(fields), params)
    else:
        _insert(table, columns, row, objs, params, returning)
    if with_pk or returning:  # saved rows now, as far as the ORM is concerned
        for obj in objs:
            obj._state.adding, obj._state.db = False, connection.alias


# From this many rows, PostgreSQL gets them by COPY: the client-side cursor composes
# an INSERT's text in Python parameter by parameter; COPY adapts them in C.
COPY_FROM = 8


def _copy(table: str, columns: str, width: int, params: list) -> None:
    connection.ensure_connection()
    with (
        connection.wrap_database_errors,
        connection.connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for i in range(0, len(params), width):
            copy.write_row(params[i : i + width])


def _insert(table, columns, row, objs, params, returning: bool) -> None:
    meta = objs[0]._meta
    sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(objs))}"  # noqa: S608
    if returning:
        sql += f" RETURNING {connection.ops.quote_name(meta.pk.column)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returning:
            for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = pk


def ids_reserve(model: type[Model], count: int) -> list[int]:
    """`count` new primary keys for rows of `model` that this transaction inserts
    later (`rows_insert(..., with_pk=True)`), so code can refer to a row before it is
    written. PostgreSQL draws them from the column's sequence (never handed out
    twice, rolled back or not). SQLite has one writer at a time (IMMEDIATE
    transactions), so the transaction advances `sqlite_sequence` itself; a rollback
    returns the keys."""
    if count < 1:
        return []
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) "
                "FROM generate_series(1, %s)",
                [table, column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        if connection.vendor != "sqlite":
            raise NotImplementedError(f"ids_reserve on {connection.vendor}")
        quoted_table, quoted_column = map(connection.ops.quote_name, (table, column))
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
