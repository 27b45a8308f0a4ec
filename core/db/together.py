"""Writes sent together: within `writes_together()`, the statements whose result
nobody reads are held back and sent as one round trip of several statements, in
order, before the next statement that reads, before a COPY, and at the end of the
block. Where the backend takes one statement per call, they run at once.

A held-back write fails where it is sent, later than it was asked for: the caller
that asked may pass `errors`, which turns the database's refusal into its own
exception wherever the statement is sent (a constraint the caller owns, say).
"""

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections

from core.db import vendor

type Translate = Callable[[DatabaseError], Exception | None]


@dataclass(frozen=True, slots=True)
class Rows:
    """A multi-row INSERT's values: `row`'s placeholders once per parameter row."""

    row: str
    rows: Sequence[Sequence]

    def statement(self, head: str) -> tuple[str, list]:
        """The whole INSERT and its parameters, to execute at once."""
        sql = head + ", ".join([self.row] * len(self.rows))
        return sql, [value for values in self.rows for value in values]

    def compose(self, head: str, mogrify) -> str:
        """The INSERT's text with its values, composed row by row."""
        return head + ", ".join(mogrify(self.row, values) for values in self.rows)


@dataclass(frozen=True, slots=True)
class _Held:
    sql: str
    params: Sequence | Rows
    errors: Translate | None

    def text(self, mogrify) -> str:
        if isinstance(self.params, Rows):
            return self.params.compose(self.sql, mogrify)
        return mogrify(self.sql, self.params)

    def now(self) -> tuple[str, Sequence]:
        if isinstance(self.params, Rows):
            return self.params.statement(self.sql)
        return self.sql, self.params


_queue = threading.local()  # .statements: what `execute_later` holds back


@contextmanager
def writes_together() -> Iterator[None]:
    """Hold back `execute_later`'s statements within the block (see the module)."""
    conn = connections[DEFAULT_DB_ALIAS]
    if getattr(_queue, "statements", None) is not None:
        yield
        return
    if not vendor.sends_statements_together(conn):
        yield
        return
    _queue.statements = []
    try:
        with conn.execute_wrapper(_flush_first):
            yield
            flush(conn)
    finally:
        _queue.statements = None


def execute_later(
    sql: str, params: Sequence | Rows, *, errors: Translate | None = None
) -> None:
    """Execute a statement whose result nobody reads: now, or with the writes held
    back by `writes_together`. With `params` a `Rows`, `sql` is a multi-row INSERT's
    head (up to VALUES). `errors(exc)` may answer the caller's own exception for the
    database's error (None: the error as it is)."""
    held = _Held(sql, params, errors)
    statements = getattr(_queue, "statements", None)
    if statements is not None:
        statements.append(held)
        return
    with translated(errors), connection.cursor() as cursor:
        cursor.execute(*held.now())


def lock_later(table: str, ids: Sequence[int]) -> None:
    """Lock rows of `table` by key, in key order, with the writes held back; where
    the backend has no row locks its transaction already holds the whole database."""
    if not vendor.locks_rows():
        return
    condition, params = vendor.id_in("id", sorted(ids))
    execute_later(
        f"SELECT id FROM {table} WHERE {condition} ORDER BY id{vendor.for_update()}",  # noqa: S608
        params,
    )


@contextmanager
def translated(*translators: Translate | None) -> Iterator[None]:
    """Raise the first translation of a database error raised in the block."""
    try:
        yield
    except DatabaseError as exc:
        for translate in translators:
            mine = translate(exc) if translate is not None else None
            if mine is not None:
                raise mine from exc
        raise


def _flush_first(execute, sql, params, many, context):
    flush(context["connection"])
    return execute(sql, params, many, context)


def flush(conn) -> None:
    """Send the held-back writes now (before a statement that must follow them)."""
    statements = getattr(_queue, "statements", None)
    if not statements:
        return
    _queue.statements = []  # emptied first: the call below meets `_flush_first`
    with (
        translated(*(s.errors for s in statements if s.errors)),
        conn.cursor() as cursor,
    ):
        # Each statement is composed on its own and the texts go joined, without
        # parameters: psycopg then keeps how it splits each short statement instead
        # of splitting one long text again on every flush.
        mogrify = cursor.cursor.mogrify
        cursor.execute(";\n".join(s.text(mogrify) for s in statements))
