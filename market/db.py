"""Small SQL helpers for the hot paths, where the ORM's query compilation (or the
client-side composition of a long statement) costs more than the statement itself."""

import functools
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from types import NoneType
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import DateField, DateTimeField, Field, Model, TimeField
from django.db.models.base import ModelState


def rows_insert(
    objs: Sequence[Model], *, with_pk: bool = False, returning: bool = False
) -> None:
    """INSERT new rows of one model in one statement (so statement-level checks see
    them all; from COPY_FROM rows on PostgreSQL, a COPY), values prepared the way
    `save()` prepares them (auto_now_add included). Primary keys: reserved with
    `ids_reserve` (`with_pk`), read back into the objects (`returning`: PostgreSQL
    and SQLite >= 3.35 return them in VALUES order, as Django's bulk_create relies
    on; from COPY_FROM rows on PostgreSQL they are reserved, then copied), or
    neither, for rows nothing refers to later in the same unit of work."""
    if not objs:
        return
    conn = connections[DEFAULT_DB_ALIAS]  # the proxy costs a lookup per attribute
    model = type(objs[0])
    copying = conn.vendor == "postgresql" and len(objs) >= COPY_FROM
    if returning and copying:
        for obj, pk in zip(objs, ids_reserve(model, len(objs)), strict=True):
            obj.pk = pk
        with_pk, returning = True, False
    fields = _insert_fields(model, with_pk)
    columns = ", ".join(conn.ops.quote_name(f.column) for f in fields)
    table = conn.ops.quote_name(model._meta.db_table)
    rows = list(zip(*(_column(objs, f, conn) for f in fields), strict=True))
    if copying:
        _copy(conn, table, columns, rows)
    else:
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        _insert(conn, table, columns, row, objs, rows, returning)
    if with_pk or returning:  # saved rows now, as far as the ORM is concerned
        for obj in objs:
            obj._state.adding, obj._state.db = False, conn.alias


def rows_update(objs: Sequence[Model], columns: Sequence[str]) -> None:
    """UPDATE `columns` of saved rows of one model to the objects' values, in one
    statement on PostgreSQL (the new values come as arrays, one per column, joined
    to the table by key: an `executemany` paid a round trip per row), one prepared
    statement on the others."""
    if not objs:
        return
    conn = connections[DEFAULT_DB_ALIAS]
    meta = objs[0]._meta
    fields = [meta.get_field(c) for c in columns]
    values = [_column(objs, f, conn) for f in fields]
    names = [conn.ops.quote_name(f.column) for f in fields]
    table, pk = conn.ops.quote_name(meta.db_table), conn.ops.quote_name(meta.pk.column)
    if conn.vendor == "postgresql":
        arrays = [f"%s::{f.db_type(conn)}[]" for f in fields]
        arrays.append(f"%s::{meta.pk.rel_db_type(conn)}[]")
        execute_later(
            f"UPDATE {table} AS t SET "  # noqa: S608
            + ", ".join(f"{n} = v.{n}" for n in names)
            + f" FROM unnest({', '.join(arrays)}) AS v ({', '.join(names)}, {pk})"
            + f" WHERE t.{pk} = v.{pk}",
            [*values, [o.pk for o in objs]],
        )
        return
    with conn.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET "  # noqa: S608
            + ", ".join(f"{n} = %s" for n in names)
            + f" WHERE {pk} = %s",
            [
                (*row, o.pk)
                for row, o in zip(zip(*values, strict=True), objs, strict=True)
            ],
        )


def unsaved[M: Model](model: type[M], **values) -> M:
    """A new, unsaved instance of `model`, as `model(**values)` makes it, without
    `Model.__init__`: for the many rows a command writes and only writes (a
    100-order batch makes some 800, and `__init__` was a sixth of its time). Values
    are keyed by attribute name (`entry_id`, not `entry`); the others take their
    defaults. No pre_init/post_init signal is sent: use it only for models that no
    receiver listens to."""
    obj = model.__new__(model)
    static, dynamic = _defaults(model)
    obj.__dict__.update(static)
    for attname, default in dynamic:
        if attname not in values:
            obj.__dict__[attname] = default()
    obj.__dict__.update(values)
    obj._state = ModelState()
    return obj


def row_copy[M: Model](obj: M) -> M:
    """A shallow copy of a model instance, as `copy.copy(obj)` makes it (its own
    values, state and cache of related objects; the related objects shared), without
    going through pickling's `__reduce_ex__` and `__getstate__`, which look for
    memoryviews among the values (once per order under the instrument's lock: about
    4% of the time a 100-order batch holds it). For models with no binary field."""
    clone = obj.__class__.__new__(obj.__class__)
    clone.__dict__.update(obj.__dict__)
    state = clone._state = ModelState.__new__(ModelState)
    state.__dict__.update(obj._state.__dict__)
    state.__dict__.pop("peers", None)  # the original's fetch peers, not the copy's
    state.fields_cache = obj._state.fields_cache.copy()
    return clone


@functools.cache
def _defaults(model: type[Model]) -> tuple[dict, list]:
    """A model's field defaults by attribute name: the constant ones, and the ones
    a callable makes for each instance."""
    static, dynamic = {}, []
    for f in model._meta.concrete_fields:
        if f.has_default() and callable(f.default):
            dynamic.append((f.attname, f.default))
        else:
            static[f.attname] = f.get_default()
    return static, dynamic


# Field types whose `get_db_prep_save` hands PostgreSQL (psycopg adapts them) the
# value unchanged when it already has this Python type; any other value, type or
# backend goes through the field (JSON is wrapped, SQLite wants strings).
_AS_IS = {
    "AutoField": int,
    "BigAutoField": int,
    "BigIntegerField": int,
    "IntegerField": int,
    "PositiveIntegerField": int,
    "PositiveBigIntegerField": int,
    "PositiveSmallIntegerField": int,
    "SmallIntegerField": int,
    "CharField": str,
    "TextField": str,
    "SlugField": str,
    "DecimalField": Decimal,
    "DateTimeField": datetime,
    "BooleanField": bool,
}


def _column(objs: Sequence[Model], field: Field, conn) -> list:
    """One column's database values for `objs`: `get_db_prep_save(pre_save(obj))`,
    as `save()` prepares them, short-circuited on PostgreSQL when every value already
    has the type the field would pass through unchanged (the fields' conversions
    took a seventh of a 100-order batch). Column by column: one check per column
    instead of a call per value."""
    if _reads_attribute(field):
        values = list(map(attrgetter(field.attname), objs))
    else:  # auto_now_add and the like
        values = [field.pre_save(obj, True) for obj in objs]
    kind = _kind(field) if conn.vendor == "postgresql" else None
    if (
        kind is not None
        and set(map(type, values)) <= {kind, NoneType}
        # a naive time goes through the field (it warns and converts)
        and (kind is not datetime or all(v is None or v.tzinfo for v in values))
    ):
        return values
    prepare = field.get_db_prep_save
    return [prepare(value, conn) for value in values]


@functools.cache
def _reads_attribute(field: Field) -> bool:
    """Whether `field.pre_save` returns the attribute as it is: always for most
    fields, and for date and time fields that are neither auto_now nor auto_now_add
    (their pre_save checks both, then reads the attribute)."""
    pre_save = type(field).pre_save
    if pre_save is Field.pre_save:
        return True
    dated = (DateField.pre_save, DateTimeField.pre_save, TimeField.pre_save)
    return pre_save in dated and not (field.auto_now or field.auto_now_add)


@functools.cache
def _kind(field: Field) -> type | None:
    target = field.target_field if field.is_relation else field
    return _AS_IS.get(target.get_internal_type())


@functools.cache
def _insert_fields(model: type[Model], with_pk: bool) -> list[Field]:
    return [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]


# From this many rows, PostgreSQL gets them by COPY: the client-side cursor composes
# an INSERT's text in Python parameter by parameter; COPY adapts them in C. But a
# smaller INSERT waits with the other held-back writes and goes in their round trip,
# where a COPY sends them first and then takes two round trips of its own: from 8
# rows, a group of 6 resting orders spent 13% longer under the instrument's lock
# than from 24 (its 12 postings went by COPY); 100-order batches did not change.
COPY_FROM = 24


def _copy(conn, table: str, columns: str, rows: list[tuple]) -> None:
    _flush(conn)  # the writes held back before it go first
    conn.ensure_connection()
    with (
        conn.wrap_database_errors,
        conn.connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _insert(conn, table, columns, row, objs, rows, returning: bool) -> None:
    meta = objs[0]._meta
    head = f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
    if not returning:
        execute_later_rows(head, row, rows)
        return
    sql, params = _Rows(head, row, rows).statement()
    sql += f" RETURNING {conn.ops.quote_name(meta.pk.column)}"
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk


# --- writes sent together --------------------------------------------------------
_queue = threading.local()  # .statements: what `execute_later` holds back


@contextmanager
def writes_together() -> Iterator[None]:
    """Within it, on PostgreSQL, the writes whose result nobody reads
    (`execute_later`: this module's INSERTs without RETURNING, its UPDATEs) are held
    back and sent as one round trip of several statements: before the next statement
    that does read, before a COPY, and at the end. In order, so nothing reads around
    a write; an error a held-back write meets is raised there, inside the block. On
    SQLite (one statement per call) they run at once."""
    conn = connections[DEFAULT_DB_ALIAS]
    if getattr(_queue, "statements", None) is not None or not _together(conn):
        yield
        return
    _queue.statements = []
    try:
        with conn.execute_wrapper(_flush_first):
            yield
            _flush(conn)
    finally:
        _queue.statements = None


def execute_later(sql: str, params: Sequence) -> None:
    """Execute a statement whose result nobody reads: now, or with the writes held
    back by `writes_together`."""
    statements = getattr(_queue, "statements", None)
    if statements is None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    else:
        statements.append((sql, params))


@dataclass(frozen=True, slots=True)
class _Rows:
    """A multi-row INSERT held back: `head`, then `row` once per parameter row."""

    head: str
    row: str
    rows: Sequence[Sequence]

    def statement(self) -> tuple[str, list]:
        """The whole INSERT and its parameters, to execute at once."""
        sql = self.head + ", ".join([self.row] * len(self.rows))
        return sql, [value for values in self.rows for value in values]

    def compose(self, mogrify) -> str:
        """The INSERT's text with its values, composed row by row."""
        return self.head + ", ".join(mogrify(self.row, values) for values in self.rows)


def execute_later_rows(head: str, row: str, rows: Sequence[Sequence]) -> None:
    """`execute_later` for a multi-row INSERT: `head` (up to VALUES), then the
    placeholders of one `row` for each of `rows`. Held back, it is composed row by
    row (see `_flush`)."""
    insert = _Rows(head, row, rows)
    statements = getattr(_queue, "statements", None)
    if statements is None:
        with connection.cursor() as cursor:
            cursor.execute(*insert.statement())
    else:
        statements.append(insert)


def _together(conn) -> bool:
    """Several statements in one call need client-side binding (Django's default on
    psycopg 3: the parameters are merged into the text)."""
    if conn.vendor != "postgresql":
        return False
    import psycopg

    conn.ensure_connection()
    return issubclass(conn.connection.cursor_factory, psycopg.ClientCursor)


def _flush_first(execute, sql, params, many, context):
    _flush(context["connection"])
    return execute(sql, params, many, context)


def _flush(conn) -> None:
    statements = getattr(_queue, "statements", None)
    if not statements:
        return
    _queue.statements = []  # emptied first: the call below meets `_flush_first`
    with conn.cursor() as cursor:
        # Each statement is composed on its own, a multi-row INSERT row by row, and
        # the texts go joined, without parameters: psycopg keeps how it splits a
        # statement of up to 4096 characters and 50 parameters, not the longer text
        # of a command's writes, which it split again on every flush (5% of a
        # single order's instructions), nor an INSERT of a few rows of many columns.
        mogrify = cursor.cursor.mogrify
        cursor.execute(
            ";\n".join(
                s.compose(mogrify) if isinstance(s, _Rows) else mogrify(*s)
                for s in statements
            )
        )


# --- reads sent together ----------------------------------------------------------
@dataclass(frozen=True)
class Read:
    """A SELECT and what to make of its rows; without `sql`, `parse(None)` reads by
    itself (a backend that has no one-statement form of it)."""

    sql: str | None
    params: Sequence = ()
    parse: Callable[[list | None], Any] = list


def reads_together(*reads: Read) -> list:
    """What each read makes of its rows, in order. On PostgreSQL the SELECTs go in
    one round trip (statements run in order: a lock the first takes is held when the
    next runs); elsewhere one by one. A read without `sql` reads by itself, after
    the others."""
    conn = connections[DEFAULT_DB_ALIAS]
    sent = [read for read in reads if read.sql is not None]
    if len(sent) < 2 or not _together(conn):
        return [_read(conn, read) for read in reads]
    with conn.cursor() as cursor:
        cursor.execute(
            ";\n".join(read.sql for read in sent),
            [value for read in sent for value in read.params],
        )
        parsed = []
        for i, read in enumerate(sent):
            if i and not cursor.nextset():
                raise RuntimeError("a read got no result")
            parsed.append(read.parse(cursor.fetchall()))
    results = iter(parsed)
    return [next(results) if r.sql is not None else r.parse(None) for r in reads]


def _read(conn, read: Read):
    if read.sql is None:
        return read.parse(None)
    with conn.cursor() as cursor:
        cursor.execute(read.sql, read.params)
        return read.parse(cursor.fetchall())


def model_columns(model: type[Model]) -> str:
    """The column list of a SELECT whose rows `models_from_rows` reads."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    return ", ".join(quote(f.column) for f in model._meta.concrete_fields)


def values_from_rows(rows: list, fields: Sequence[Field]) -> list[list]:
    """Rows of a plain SELECT of the columns of `fields` (of any models, in that
    order) with the backend's and the fields' converters applied, as a queryset
    would give them."""
    conn = connections[DEFAULT_DB_ALIAS]
    converters = []
    for i, f in enumerate(fields):
        col = f.get_col(f.model._meta.db_table)
        found = conn.ops.get_db_converters(col) + col.get_db_converters(conn)
        if found:
            converters.append((i, col, found))
    out = []
    for row in rows:
        values = list(row)
        for i, col, found in converters:
            for convert in found:
                values[i] = convert(values[i], col, conn)
        out.append(values)
    return out


def models_from_rows[M: Model](model: type[M], rows: list) -> list[M]:
    """Saved instances from rows of `SELECT model_columns(model)`, the backend's and
    the fields' converters applied, as a queryset would build them."""
    conn = connections[DEFAULT_DB_ALIAS]
    fields = model._meta.concrete_fields
    names = [f.attname for f in fields]
    return [
        model.from_db(conn.alias, names, values)
        for values in values_from_rows(rows, fields)
    ]


def ids_read(model: type[Model], count: int) -> Read:
    """`ids_reserve(model, count)` as a read that can go with others."""
    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql" or count < 1:
        return Read(None, parse=lambda _rows: ids_reserve(model, count))
    return Read(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [model._meta.db_table, model._meta.pk.column, count],
        lambda rows: [row[0] for row in rows],
    )


def ids_reserve(model: type[Model], count: int) -> list[int]:
    """`count` new primary keys for rows of `model` that this transaction inserts
    later (`rows_insert(..., with_pk=True)`), so code can refer to a row before it is
    written. PostgreSQL draws them from the column's sequence (never handed out
    twice, rolled back or not). SQLite has one writer at a time (IMMEDIATE
    transactions), so the transaction advances `sqlite_sequence` itself; a rollback
    returns the keys."""
    if count < 1:
        return []
    if connection.vendor == "postgresql":
        return _read(connections[DEFAULT_DB_ALIAS], ids_read(model, count))
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
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
