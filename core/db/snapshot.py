"""One consistent snapshot for a read that spans many tables (an audit, a report, an
order's preview): every query in it sees the database as one moment left it, while
writers go on."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections

from core.db import vendor


@contextmanager
def consistent_snapshot(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Run the block in one read-only transaction whose reads all see one snapshot,
    taken at its first read: writers are not blocked, and what they commit after it
    does not show. Inside a transaction already, the block runs in the caller's (its
    isolation cannot change once it has read): that transaction is the snapshot.
    Either way the block locks no row and draws no key (`vendor.in_snapshot`)."""
    conn = connections[using]
    depth = getattr(conn, vendor.SNAPSHOT_DEPTH, 0)
    setattr(conn, vendor.SNAPSHOT_DEPTH, depth + 1)
    try:
        if conn.in_atomic_block:
            yield
            return
        with vendor.snapshot_transaction(conn):
            yield
    finally:
        setattr(conn, vendor.SNAPSHOT_DEPTH, depth)
