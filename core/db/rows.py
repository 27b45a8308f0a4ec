"""Rows written the way `save()` writes them, many at a time: INSERT (or COPY) and
UPDATE of one model's rows in one statement, and unsaved instances built without
`Model.__init__`, for the many rows an order command writes and never reads back."""

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from types import NoneType

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import DateField, DateTimeField, Field, Model, TimeField
from django.db.models.base import ModelState

from core.db import vendor
from core.db.keys import ids_reserve
from core.db.together import Rows, execute_later, flush, translated

type Translate = Callable[[DatabaseError], Exception | None]


def rows_insert(
    objs: Sequence[Model],
    *,
    with_pk: bool = False,
    returning: bool = False,
    errors: Translate | None = None,
) -> None:
    """INSERT new rows of one model in one statement (so statement-level checks see
    them all; from COPY_FROM rows where the backend has COPY, a COPY), values
    prepared the way `save()` prepares them (auto_now_add included). Primary keys:
    reserved with `ids_reserve` (`with_pk`), read back into the objects
    (`returning`, in VALUES order, as Django's bulk_create relies on), or neither,
    for rows nothing refers to later in the same unit of work. `errors` turns the
    database's refusal into the caller's own exception (see `execute_later`)."""
    if not objs:
        return
    conn = connections[DEFAULT_DB_ALIAS]  # the proxy costs a lookup per attribute
    model = type(objs[0])
    copying = len(objs) >= COPY_FROM and vendor.copies_rows(conn)
    if returning and copying:
        for obj, pk in zip(objs, ids_reserve(model, len(objs)), strict=True):
            obj.pk = pk
        with_pk, returning = True, False
    fields = _insert_fields(model, with_pk)
    columns = ", ".join(conn.ops.quote_name(f.column) for f in fields)
    table = conn.ops.quote_name(model._meta.db_table)
    rows = list(zip(*(_column(objs, f, conn) for f in fields), strict=True))
    if copying:
        _copy(conn, table, columns, rows, errors)
    else:
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        _insert(conn, table, columns, Rows(row, rows), objs, returning, errors)
    if with_pk or returning:  # saved rows now, as far as the ORM is concerned
        for obj in objs:
            obj._state.adding, obj._state.db = False, conn.alias


def rows_update(objs: Sequence[Model], columns: Sequence[str]) -> None:
    """UPDATE `columns` of saved rows of one model to the objects' values, in one
    statement (the new values come as arrays, one per column, joined to the table by
    key) where the backend has arrays, one prepared statement elsewhere."""
    if not objs:
        return
    conn = connections[DEFAULT_DB_ALIAS]
    meta = objs[0]._meta
    fields = [meta.get_field(c) for c in columns]
    values = [_column(objs, f, conn) for f in fields]
    names = [conn.ops.quote_name(f.column) for f in fields]
    table, pk = conn.ops.quote_name(meta.db_table), conn.ops.quote_name(meta.pk.column)
    if vendor.is_postgresql(conn):
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
    `Model.__init__` (a large share of a batch's time went there). Values are keyed
    by attribute name (`entry_id`, not `entry`); the others take their defaults. No
    pre_init/post_init signal is sent: use it only for models no receiver listens
    to."""
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
    pickling's `__reduce_ex__` and `__getstate__`, which look for memoryviews among
    the values. For models with no binary field."""
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


# Field types whose `get_db_prep_save` hands a natively adapting driver the value
# unchanged when it already has this Python type; any other value, type or backend
# goes through the field (JSON is wrapped, SQLite wants strings).
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
    as `save()` prepares them, short-circuited where the driver adapts natively and
    every value already has the type the field would pass through unchanged. Column
    by column: one check per column instead of a call per value."""
    if _reads_attribute(field):
        values = list(map(attrgetter(field.attname), objs))
    else:  # auto_now_add and the like
        values = [field.pre_save(obj, True) for obj in objs]
    kind = _kind(field) if vendor.adapts_natively(conn) else None
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


# From this many rows, they go by COPY (adapted in C) rather than in an INSERT held
# back with the other writes (one round trip for all): see docs/performance.md.
COPY_FROM = 24


def _copy(conn, table: str, columns: str, rows: list, errors: Translate | None):
    flush(conn)  # the writes held back before it go first
    conn.ensure_connection()
    with (
        translated(errors),
        conn.wrap_database_errors,
        conn.connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _insert(conn, table, columns, rows: Rows, objs, returning: bool, errors):
    head = f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
    if not returning:
        execute_later(head, rows, errors=errors)
        return
    sql, params = rows.statement(head)
    sql += f" RETURNING {conn.ops.quote_name(objs[0]._meta.pk.column)}"
    with translated(errors), conn.cursor() as cursor:
        cursor.execute(sql, params)
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk


def row_update(obj: Model, columns: Sequence[str]) -> None:
    """`obj.save(update_fields=columns)` as one plain UPDATE, held back with the
    other writes (`execute_later`)."""
    conn = connections[DEFAULT_DB_ALIAS]
    meta = obj._meta
    fields = [meta.get_field(c) for c in columns]
    assignments = ", ".join(f"{conn.ops.quote_name(f.column)} = %s" for f in fields)
    execute_later(
        f"UPDATE {meta.db_table} SET {assignments} WHERE id = %s",  # noqa: S608
        [f.get_db_prep_save(getattr(obj, f.attname), conn) for f in fields] + [obj.pk],
    )
