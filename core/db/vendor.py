"""What differs between the database backends, and the one place that asks which
backend it is: app code calls these and never branches on the vendor itself.

PostgreSQL is the system of record; SQLite is the embedded default (one writer at a
time: its transactions are IMMEDIATE), so the same code runs on both, with the few
statements that only PostgreSQL has replaced here by their plain equivalents.
"""

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction


def _conn(conn=None):
    return conn if conn is not None else connections[DEFAULT_DB_ALIAS]


def is_postgresql(conn=None) -> bool:
    return _conn(conn).vendor == "postgresql"


def for_update(of: str = "", conn=None) -> str:
    """The clause that locks the rows a SELECT reads (of the table aliased `of`),
    where the backend has row locks (SQLite's IMMEDIATE transactions already hold
    the whole database); none in a consistent snapshot, whose rows cannot change
    under it (and whose READ ONLY transaction refuses the clause)."""
    conn = _conn(conn)
    if not conn.features.has_select_for_update or in_snapshot(conn):
        return ""
    return f" FOR UPDATE OF {of}" if of else " FOR UPDATE"


def in_snapshot(conn=None) -> bool:
    """Whether the connection is inside `consistent_snapshot`: a read that writes
    nothing, so it locks no row and draws no key (`keys`)."""
    return getattr(_conn(conn), SNAPSHOT_DEPTH, 0) > 0


SNAPSHOT_DEPTH = "yiwang_snapshot_depth"  # an attribute of the connection wrapper


def locks_rows(conn=None) -> bool:
    return bool(for_update(conn=conn))


def sends_statements_together(conn=None) -> bool:
    """Whether several statements can go in one call: PostgreSQL with client-side
    binding (Django's default on psycopg 3, which merges parameters into the text)."""
    conn = _conn(conn)
    if not is_postgresql(conn):
        return False
    import psycopg

    conn.ensure_connection()
    return issubclass(conn.connection.cursor_factory, psycopg.ClientCursor)


def copies_rows(conn=None) -> bool:
    """Whether many rows can be written by COPY (PostgreSQL)."""
    return is_postgresql(conn)


def adapts_natively(conn=None) -> bool:
    """Whether the driver takes ints, strings, Decimals, bools and aware datetimes
    as they are (psycopg), so a field's own preparation may be skipped for them."""
    return is_postgresql(conn)


def pairs_in(alias: str, columns: tuple[str, str], pairs: Sequence[tuple]) -> tuple:
    """A FROM item and parameters that join `alias` to rows matching one of
    `pairs` on `columns`: `(sql, params)` where sql goes after `FROM table alias`.
    On PostgreSQL the pairs come as two arrays (a long list of row comparisons took
    long to plan); elsewhere as a row-value IN list."""
    a, b = columns
    if is_postgresql():
        sql = (
            f"JOIN unnest(%s::text[], %s::text[]) AS w ({a}, {b}) "
            f"ON {alias}.{a} = w.{a} AND {alias}.{b} = w.{b}"
        )
        return sql, [[p[0] for p in pairs], [p[1] for p in pairs]]
    marks = ", ".join(["(%s, %s)"] * len(pairs))
    return f"WHERE ({alias}.{a}, {alias}.{b}) IN ({marks})", [
        v for pair in pairs for v in pair
    ]


def id_in(column: str, ids: Sequence[int]) -> tuple[str, list]:
    """A condition that `column` is one of `ids`, and its parameters: one array on
    PostgreSQL (one statement text whatever the count), a list elsewhere."""
    if is_postgresql():
        return f"{column} = ANY(%s)", [list(ids)]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def add_by_id(
    table: str, column: str, sums: dict[int, Decimal], places: int
) -> tuple[str, list]:
    """An UPDATE that adds each id's sum to a decimal `column` of `places` decimal
    places, and its parameters. SQLite keeps decimals as floats: the sum is rounded
    to the column's places there, as storing the exact Decimal would round it."""
    ids = list(sums)
    if is_postgresql():
        sql = (
            f"UPDATE {table} AS t SET {column} = t.{column} + v.delta "  # noqa: S608
            "FROM unnest(%s::bigint[], %s::numeric[]) AS v (id, delta) "
            "WHERE t.id = v.id"
        )
        return sql, [ids, [sums[pk] for pk in ids]]
    cases = " ".join(["WHEN %s THEN %s"] * len(ids))
    marks = ", ".join(["%s"] * len(ids))
    moved = f"ROUND({column} + CASE id {cases} END, {places})"
    sql = f"UPDATE {table} SET {column} = {moved} WHERE id IN ({marks})"  # noqa: S608
    params = [v for pk in ids for v in (pk, str(sums[pk]))]
    return sql, [*params, *ids]


def sums_exactly(conn=None) -> bool:
    """Whether SUM over a decimal column is exact in the database (PostgreSQL's
    numeric); SQLite sums them as floats, so callers add them up in Python."""
    return is_postgresql(conn)


@contextmanager
def snapshot_transaction(conn=None) -> Iterator[None]:
    """A read-only transaction that sees one snapshot (see `consistent_snapshot`).

    PostgreSQL: REPEATABLE READ, READ ONLY, set as the transaction's first statement.
    SQLite (WAL): a DEFERRED transaction, which takes no write lock (the settings'
    IMMEDIATE would hold writers off for the whole read) and whose snapshot is
    fixed at its first read; `query_only` refuses writes, as READ ONLY does."""
    conn = _conn(conn)
    if is_postgresql(conn):
        with transaction.atomic(using=conn.alias):
            with conn.cursor() as cursor:
                cursor.execute(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                )
            yield
        return
    mode = conn.transaction_mode
    with conn.cursor() as cursor:
        cursor.execute("PRAGMA query_only = ON")
    # Read only at BEGIN: the block's own atomic blocks are savepoints.
    conn.transaction_mode = "DEFERRED"
    try:
        with transaction.atomic(using=conn.alias):
            yield
    finally:
        conn.transaction_mode = mode
        with conn.cursor() as cursor:
            cursor.execute("PRAGMA query_only = OFF")


_SQLITE_CHECK = re.compile(r"CHECK constraint failed: (\w+)")
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: ([\w., ]+)")


def constraint_name(exc: BaseException) -> str | None:
    """The name of the constraint a database error reports, if any: PostgreSQL
    names it in the error's diagnostics; SQLite names a CHECK in its message, and a
    unique constraint by its columns, which the models' constraints name."""
    if not isinstance(exc, DatabaseError):
        return None
    diag = getattr(exc.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        return name
    if found := _SQLITE_CHECK.search(str(exc)):
        return found.group(1)
    if found := _SQLITE_UNIQUE.search(str(exc)):
        columns = [c.strip().split(".") for c in found.group(1).split(",")]
        return _unique_named(columns[0][0], {column for _t, column in columns})
    return None


def _unique_named(table: str, columns: set[str]) -> str | None:
    from django.apps import apps
    from django.db.models import UniqueConstraint

    for model in apps.get_models():
        if model._meta.db_table != table:
            continue
        for constraint in model._meta.constraints:
            if isinstance(constraint, UniqueConstraint) and constraint.fields:
                named = {model._meta.get_field(f).column for f in constraint.fields}
                if named == columns:
                    return constraint.name
    return None
