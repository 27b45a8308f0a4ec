"""The ledger's unit of work: plan entries and hold changes, then post them all at once.

A caller (inside its own transaction) adds balanced entries and hold changes to a
`Batch`; `commit()` locks every account the entries touch in one statement ordered by
primary key (so two batches can never deadlock on accounts), replays the entries in
order on the balances (an entry that would take a participant account below zero
raises InsufficientFunds and nothing is written), then writes entries, postings,
balances and holds.

A caller that read the participants' accounts earlier in its transaction without a
lock (order placement, under the instrument's lock) hands the batch that
`LedgerSnapshot`: funds are then checked against it, the accounts' lock goes with the
writes, and balances move by their postings' sums, so a concurrent withdrawal is
kept; if it left too little, the database refuses the overdraft and the commit
raises FundsMoved (decide again with `exact`, which locks before it checks).

Invariants kept: each entry sums to zero; balances change only with their postings, in
the same transaction; postings are only ever inserted; an entry whose idempotency key
already exists is skipped, so the same cause posts once.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

from core.db import Read, ids_read, reads_together, rows_insert, rows_update, unsaved
from settlement import funds
from settlement.exceptions import (
    HoldAlreadyResolved,
    InsufficientFunds,
    UnbalancedEntry,
)
from settlement.holds import Holds
from settlement.models import ZERO, Account, Hold, JournalEntry, Posting
from settlement.persistence import (
    AccountKey,
    accounts_for_update,
    accounts_lock_later,
    accounts_read,
    balances_move_later,
)

EXTERNAL: AccountKey = (Account.Kind.EXTERNAL, None, "")


def participant_account(kind: str, participant_id: int) -> AccountKey:
    return (kind, participant_id, "")


def platform_account(kind: str, instrument: str) -> AccountKey:
    return (kind, None, instrument)


@dataclass(slots=True)
class PlannedEntry:
    kind: str
    reference: str
    key: str
    lines: list[tuple[AccountKey, Decimal]]
    memo: str = ""
    caused_by_id: int | None = None


@dataclass
class LedgerSnapshot:
    """What a unit of work read of the ledger before planning: the participants'
    accounts, read without a lock, and journal-entry keys reserved for it."""

    accounts: dict[AccountKey, Account]
    entry_ids: list[int]

    @staticmethod
    def reads(participant_ids: set[int], entries: int) -> dict[str, Read]:
        """The reads to send (with others) for a snapshot of these participants'
        accounts and `entries` journal-entry keys."""
        return {
            "accounts": accounts_read(participant_ids),
            "entry_ids": ids_read(JournalEntry, entries),
        }

    @classmethod
    def from_reads(cls, answers: Mapping[str, Any]) -> "LedgerSnapshot":
        return cls(answers["accounts"], list(answers["entry_ids"]))

    @classmethod
    def read(cls, participant_ids: set[int], entries: int = 0) -> "LedgerSnapshot":
        return cls.from_reads(reads_together(cls.reads(participant_ids, entries)))

    def available(self) -> dict[int, Decimal]:
        """Available balances by participant id."""
        return {
            pid: account.balance
            for (kind, pid, _i), account in self.accounts.items()
            if kind == Account.Kind.AVAILABLE
        }


@dataclass
class Batch:
    """Entries and hold changes to post together. Use inside an open transaction.

    `snapshot`: the accounts and keys the caller read (see the module); `exact`:
    lock the accounts before checking funds even so (the snapshot's keys are used).
    `check_existing=False` when every key is new by construction (an order
    command's keys carry the instrument's next sequence numbers): saves a query;
    the unique index still holds."""

    caused_by_id: int | None = None
    check_existing: bool = True
    snapshot: LedgerSnapshot | None = None
    exact: bool = False
    entries: list[PlannedEntry] = field(default_factory=list)
    holds: Holds = field(default_factory=Holds)

    # --- planning ------------------------------------------------------------------
    def entry(
        self,
        *,
        kind: str,
        reference: str,
        key: str,
        lines: list[tuple[AccountKey, Decimal]],
        memo: str = "",
    ) -> None:
        lines = [(account, amount) for account, amount in lines if amount != 0]
        if sum((amount for _a, amount in lines), ZERO) != 0:
            raise UnbalancedEntry(f"entry {key} does not sum to zero: {lines}")
        if lines:
            self.entries.append(
                PlannedEntry(kind, reference, key, lines, memo, self.caused_by_id)
            )

    def hold(
        self, *, kind: str, reference: str, participant_id: int, instrument: str
    ) -> Hold:
        """The hold for `reference` (locked, or new), tracked by the batch."""
        return self.holds.get(
            (kind, reference), participant_id=participant_id, instrument=instrument
        )

    def holds_prefetch(self, slots: list[tuple[str, str]]) -> None:
        """Lock the holds of `slots` (kind, reference) in one query."""
        self.holds.prefetch(slots)

    def holds_absent(self, slots: list[tuple[str, str]]) -> None:
        """The caller knows these holds do not exist yet (orders it just created)."""
        self.holds.known_absent(slots)

    def hold_set(
        self,
        *,
        kind: str,
        reference: str,
        participant_id: int,
        instrument: str,
        amount: Decimal,
        key: str,
    ) -> None:
        """Make the hold exactly `amount`, moving the difference between available and
        held (order holds) or bond (bonds)."""
        hold = self.hold(
            kind=kind,
            reference=reference,
            participant_id=participant_id,
            instrument=instrument,
        )
        if hold.status == Hold.Status.RELEASED:
            raise HoldAlreadyResolved(f"{kind}:{reference} was already released")
        delta = amount - hold.amount
        target = Account.Kind.HELD if kind == Hold.Kind.ORDER else Account.Kind.BOND
        self.entry(
            kind="hold" if delta > 0 else "release",
            reference=reference,
            key=key,
            lines=[
                (participant_account(Account.Kind.AVAILABLE, participant_id), -delta),
                (participant_account(target, participant_id), delta),
            ],
        )
        hold.amount = amount

    def hold_release(
        self,
        *,
        kind: str,
        reference: str,
        participant_id: int,
        instrument: str,
        key: str,
    ) -> Decimal:
        """Release what is left of the hold to available and resolve it (once)."""
        hold = self.hold(
            kind=kind,
            reference=reference,
            participant_id=participant_id,
            instrument=instrument,
        )
        if hold.status == Hold.Status.RELEASED:
            raise HoldAlreadyResolved(f"{kind}:{reference} was already released")
        released = hold.amount
        self.hold_set(
            kind=kind,
            reference=reference,
            participant_id=participant_id,
            instrument=instrument,
            amount=ZERO,
            key=key,
        )
        self.holds.released.add((kind, reference))
        return released

    def hold_move(
        self,
        *,
        kind: str,
        reference: str,
        participant_id: int,
        instrument: str,
        to: list[tuple[AccountKey, Decimal]],
        entry_kind: str,
        key: str,
    ) -> None:
        """Pay part of a hold out to other accounts (a fill into escrow, a shortfall
        penalty to the buyer); the hold shrinks by what left it."""
        hold = self.hold(
            kind=kind,
            reference=reference,
            participant_id=participant_id,
            instrument=instrument,
        )
        total = sum((amount for _a, amount in to), ZERO)
        if hold.status == Hold.Status.RELEASED or total > hold.amount:
            raise HoldAlreadyResolved(f"{hold} cannot pay out {total}")
        source = Account.Kind.HELD if kind == Hold.Kind.ORDER else Account.Kind.BOND
        self.entry(
            kind=entry_kind,
            reference=reference,
            key=key,
            lines=[(participant_account(source, participant_id), -total), *to],
        )
        hold.amount -= total

    def hold_transfer(
        self, *, source: Hold, kind: str, reference: str, amount: Decimal
    ) -> Hold:
        """Move part of one hold to a new hold on the same account (a sell's bond to
        the trade it filled): no money moves, so no entry."""
        if source.status == Hold.Status.RELEASED or amount > source.amount:
            raise HoldAlreadyResolved(f"{source} cannot give {amount}")
        target = self.hold(
            kind=kind,
            reference=reference,
            participant_id=source.participant_id,
            instrument=source.instrument,
        )
        source.amount -= amount
        target.amount += amount
        return target

    # --- posting -------------------------------------------------------------------
    def commit(self) -> list[JournalEntry]:
        """Lock, check, write. Raises InsufficientFunds with nothing written, or
        FundsMoved (see the module) where the held-back writes are sent."""
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("Batch.commit() runs inside the caller's transaction")
        entries = self._new_entries()
        keys = {a for e in entries for a, _ in e.lines}
        reserved = self._reserved(len(entries))
        more = len(entries) - len(reserved)
        snapshot = self.snapshot
        if snapshot and self._trusts(snapshot, keys, more):
            accounts = {key: snapshot.accounts[key] for key in keys}
            _replay(entries, accounts)
            accounts_lock_later([a.pk for a in accounts.values()])
            written = _write(entries, accounts, reserved, moved=True)
            self.holds.write()
            return written
        accounts, entry_ids = accounts_for_update(keys, ids_read(JournalEntry, more))
        _replay(entries, accounts)
        written = _write(entries, accounts, reserved + entry_ids)
        self.holds.write()
        return written

    def _trusts(self, snapshot: LedgerSnapshot, keys: set, more: int) -> bool:
        """Whether funds may be checked against the snapshot: it holds every
        account the entries touch (a resting order's hold touches only its owner's)
        and the keys reserved suffice."""
        return (
            not self.exact
            and not more
            and bool(keys)
            and keys <= snapshot.accounts.keys()
        )

    def _new_entries(self) -> list[PlannedEntry]:
        entries, self.entries = self.entries, []
        if not (self.check_existing and entries):
            return entries
        done = set(
            JournalEntry.objects.filter(
                idempotency_key__in=[e.key for e in entries]
            ).values_list("idempotency_key", flat=True)
        )
        return [e for e in entries if e.key not in done]

    def _reserved(self, count: int) -> list[int]:
        """Up to `count` of the snapshot's reserved keys, taken from the front."""
        if self.snapshot is None:
            return []
        ids = self.snapshot.entry_ids
        taken = ids[:count]
        del ids[:count]
        return taken


def _replay(entries: list[PlannedEntry], accounts: dict[AccountKey, Account]) -> None:
    """Post the entries in order on the balances; the first that takes an account
    where it may not go raises InsufficientFunds, with nothing changed."""
    balances = {key: account.balance for key, account in accounts.items()}
    for entry in entries:
        for key, amount in entry.lines:
            balances[key] += amount
        for key, amount in entry.lines:
            if not funds.fits(key[0], balances[key]):
                raise InsufficientFunds(
                    f"Not enough {key[0]} funds for {entry.kind} "
                    f"{entry.reference}: short by {-balances[key]} CNY.",
                    account=key,
                    available=balances[key] - amount,
                )
    for key, account in accounts.items():
        account.balance = balances[key]


def _write(
    entries: list[PlannedEntry],
    accounts: dict[AccountKey, Account],
    ids: list[int],
    *,
    moved: bool = False,
) -> list[JournalEntry]:
    """Entries, postings and balances: the balances as replayed on locked accounts,
    or `moved` by their postings' sums (accounts locked with the writes, read
    before)."""
    if not entries:
        return []
    rows = [
        unsaved(
            JournalEntry,
            id=pk,
            kind=e.kind,
            reference=e.reference,
            idempotency_key=e.key,
            memo=e.memo,
            caused_by_id=e.caused_by_id,
        )
        for pk, e in zip(ids, entries, strict=True)
    ]
    rows_insert(rows, with_pk=True)
    rows_insert(
        [
            unsaved(
                Posting, entry_id=row.pk, account_id=accounts[key].pk, amount=amount
            )
            for row, e in zip(rows, entries, strict=True)
            for key, amount in e.lines
        ]
    )
    if moved:
        sums: dict[int, Decimal] = {}
        for e in entries:
            for key, amount in e.lines:
                pk = accounts[key].pk
                sums[pk] = sums.get(pk, ZERO) + amount
        balances_move_later(sums, errors=funds.moved)
    else:
        touched = {key for e in entries for key, _ in e.lines}
        rows_update([accounts[key] for key in touched], ["balance"])
    return rows
