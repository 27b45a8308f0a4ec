"""Reads sent together, and rows of plain SELECTs read as the ORM reads them.

A `Read` is a SELECT and what to make of its rows. `reads_together` sends several in
one round trip where the backend allows it (in order: a lock the first takes is held
when the next runs) and answers each by the name it was asked under.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Model

from core.db import vendor


@dataclass(frozen=True)
class Read:
    """A SELECT and what to make of its rows; without `sql`, `parse(None)` reads by
    itself (a backend that has no one-statement form of it)."""

    sql: str | None
    params: Sequence = ()
    parse: Callable[[list | None], Any] = list


type Reads = Mapping[str, "Read | Reads"]


def reads_together(reads: Reads) -> dict[str, Any]:
    """What each read makes of its rows, by the name it was given (a mapping of
    reads answers as a mapping). Where the backend allows it the SELECTs go in one
    round trip, in the order given; elsewhere one by one. A read without `sql` reads
    by itself, after the others."""
    flat = list(_flatten(reads, ()))
    answers = iter(_send([read for _path, read in flat]))
    out: dict[str, Any] = {}
    for path, _read in flat:
        node = out
        for name in path[:-1]:
            node = node.setdefault(name, {})
        node[path[-1]] = next(answers)
    for name, read in reads.items():  # an empty mapping still answers
        if not isinstance(read, Read):
            out.setdefault(name, {})
    return out


def read_now(read: Read) -> Any:
    """What one read makes of its rows."""
    return _send([read])[0]


def _flatten(reads: Reads, path: tuple[str, ...]):
    for name, read in reads.items():
        if isinstance(read, Read):
            yield (*path, name), read
        else:
            yield from _flatten(read, (*path, name))


def _send(reads: list[Read]) -> list:
    conn = connections[DEFAULT_DB_ALIAS]
    sent = [read for read in reads if read.sql is not None]
    if len(sent) < 2 or not vendor.sends_statements_together(conn):
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
