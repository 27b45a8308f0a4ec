"""Corrupting a database on purpose, for reconcile's tests: a small live market to
corrupt, one case per way of corrupting it, and what `manage.py reconcile` says.

A case's SQL goes straight to the database, as a bug or a hand edit would. Where the
database itself refuses it (a ledger trigger on PostgreSQL, a CHECK constraint on
both), the refusal is shown first, then the guard is lifted inside the test's own
transaction, which is rolled back with it, to show reconcile still catches it.
"""

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from exchange.models import Order, Trade
from exchange.services.orders import order_cancel
from settlement.models import Account, JournalEntry
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place


@dataclass(frozen=True)
class Market:
    """A market after some trading: a sell partly filled, a buy filled, a buy
    resting, a buy cancelled; trades pending settlement."""

    instrument_id: int
    symbol: str
    buyer_id: int
    seller_id: int
    trade_id: int
    filled_buy_id: int
    resting_buy_id: int

    def account(self, kind: str, *, platform: bool = False) -> int:
        """The buyer's account of `kind`, or the instrument's (`platform`)."""
        if platform:
            row = Account.objects.get(kind=kind, instrument=self.symbol)
        else:
            row = Account.objects.get(kind=kind, participant_id=self.buyer_id)
        return row.pk

    def external(self) -> int:
        return Account.objects.get(kind=Account.Kind.EXTERNAL).pk

    def entries(self) -> list[int]:
        """Two journal entries that have postings."""
        return list(JournalEntry.objects.values_list("pk", flat=True)[:2])


def market_build() -> Market:
    instrument = make_instrument()
    seller, buyer = make_seller(), make_buyer()
    place(seller, instrument, "sell", "100.0", "11.00")
    filled = place(buyer, instrument, "buy", "40.0", "12.00").order
    resting = place(buyer, instrument, "buy", "10.0", "10.00").order
    cancelled = place(buyer, instrument, "buy", "5.0", "10.50").order
    order_cancel(participant=buyer, order_id=cancelled.pk)
    assert Order.objects.get(pk=filled.pk).status == Order.Status.FILLED
    return Market(
        instrument_id=instrument.pk,
        symbol=instrument.symbol,
        buyer_id=buyer.pk,
        seller_id=seller.pk,
        trade_id=Trade.objects.filter(buy_order=filled).values_list("pk", flat=True)[0],
        filled_buy_id=filled.pk,
        resting_buy_id=resting.pk,
    )


@dataclass(frozen=True)
class Trigger:
    """A PostgreSQL trigger that refuses the corruption, saying `says`."""

    table: str
    name: str
    says: str

    def guards(self) -> bool:
        return connection.vendor == "postgresql"

    @contextmanager
    def lifted(self, cursor) -> Iterator[None]:
        """Disabled for the rest of the test's transaction, which rolls it back."""
        cursor.execute(f"ALTER TABLE {self.table} DISABLE TRIGGER {self.name}")
        yield


@dataclass(frozen=True)
class Check:
    """A CHECK constraint that refuses the corruption, on either database."""

    table: str
    name: str

    @property
    def says(self) -> str:
        return self.name

    def guards(self) -> bool:
        return True

    @contextmanager
    def lifted(self, cursor) -> Iterator[None]:
        """Dropped for the rest of the test's transaction on PostgreSQL; SQLite
        cannot drop one, but ignores them all while the pragma is on (it belongs to
        the connection, which outlives the test: set back at once)."""
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {self.table} DROP CONSTRAINT {self.name}")
            yield
            return
        cursor.execute("PRAGMA ignore_check_constraints = ON")
        try:
            yield
        finally:
            cursor.execute("PRAGMA ignore_check_constraints = OFF")


@dataclass(frozen=True)
class Case:
    """One way to corrupt the market: the invariant reconcile must report, any it
    necessarily breaks too, and what in the database refuses it, if anything."""

    id: str
    invariant: str
    corrupt: Callable[..., None]
    also: frozenset[str] = frozenset()
    guard: Trigger | Check | None = None

    def param(self):
        return pytest.param(self, id=self.id)


def corrupt(case: Case, market: Market) -> None:
    """Apply the case: where the database guards against it, show the refusal,
    then lift the guard to apply it anyway."""
    with connection.cursor() as cursor:
        if case.guard is None or not case.guard.guards():
            case.corrupt(cursor, market)
            return
        with pytest.raises(DatabaseError, match=case.guard.says), transaction.atomic():
            case.corrupt(cursor, market)
        with case.guard.lifted(cursor):
            case.corrupt(cursor, market)


def reconcile_run() -> tuple[int, str]:
    """`manage.py reconcile`'s exit status and report."""
    out = io.StringIO()
    try:
        call_command("reconcile", stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def failed_invariants(report: str) -> set[str]:
    return {
        line.removeprefix("FAIL ").strip()
        for line in report.splitlines()
        if line.startswith("FAIL ")
    }


def assert_reported(case: Case, market: Market) -> None:
    """Reconcile passes, the case corrupts the market, reconcile exits 1 naming
    exactly the invariants the case breaks."""
    code, report = reconcile_run()
    assert code == 0, report
    corrupt(case, market)
    code, report = reconcile_run()
    assert code == 1, report
    assert failed_invariants(report) == {case.invariant, *case.also}, report
    assert f"{1 + len(case.also)} invariant(s) failed." in report


def entry_insert(
    cursor, key: str, *, kind: str = "corrupt", reference: str = ""
) -> int:
    """A new journal entry (no postings yet), as raw SQL writes one."""
    cursor.execute(
        "INSERT INTO settlement_journalentry "
        "(kind, reference, idempotency_key, memo, created_at) "
        "VALUES (%s, %s, %s, '', %s) RETURNING id",
        [kind, reference or key, key, timezone.now()],
    )
    return cursor.fetchone()[0]


def postings_insert(cursor, rows: list[tuple[int, int, Decimal]]) -> None:
    """(entry, account, amount) rows in one statement, as the ledger writes them."""
    marks = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    now = timezone.now()
    cursor.execute(
        "INSERT INTO settlement_posting (entry_id, account_id, amount, created_at) "  # noqa: S608
        f"VALUES {marks}",
        [v for entry, account, amount in rows for v in (entry, account, amount, now)],
    )


def balance_add(cursor, account_id: int, amount: Decimal) -> None:
    cursor.execute(
        "UPDATE settlement_account SET balance = balance + %s WHERE id = %s",
        [amount, account_id],
    )


def money_move(cursor, key: str, source: int, target: int, amount: Decimal) -> None:
    """A balanced entry from `source` to `target`, balances kept: the ledger itself
    stays sound, only what the money stands for goes wrong."""
    entry = entry_insert(cursor, key)
    postings_insert(cursor, [(entry, source, -amount), (entry, target, amount)])
    balance_add(cursor, source, -amount)
    balance_add(cursor, target, amount)
