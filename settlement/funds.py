"""Whether money fits: the rule that no participant balance goes below zero (only
`external` may), decided here for the ledger when it posts (`fits`) and for a unit of
work that sets holds aside before it posts them (`Funds`, order placement and amend),
and the database's own refusal of an overdraft turned into `FundsMoved`.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import DatabaseError

from core.db import constraint_name
from settlement.exceptions import FundsMoved, FundsUncertain, InsufficientFunds
from settlement.models import Account

ZERO = Decimal(0)
OVERDRAFT_CHECK = "account_balance_non_negative"


def fits(kind: str, balance: Decimal) -> bool:
    """Whether an account of `kind` may hold `balance`."""
    return balance >= 0 or kind == Account.Kind.EXTERNAL


def moved(exc: DatabaseError) -> FundsMoved | None:
    """The database refused a balance below zero that a snapshot allowed: a
    concurrent transaction drew the balance down after the snapshot was read."""
    if constraint_name(exc) == OVERDRAFT_CHECK:
        return FundsMoved(str(exc))
    return None


@dataclass
class Funds:
    """Participants' available balances as a unit of work read them, less what it
    has set aside so far. Caller holds the locks under which the unit decides (the
    instrument's); the ledger checks again when it posts."""

    available: dict[int, Decimal]
    set_aside: dict[int, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def check(self, *, participant_id: int, amount: Decimal, need: str) -> None:
        """Raise InsufficientFunds unless `amount` more can be set aside (`need`
        says what for, in the refusal), or FundsUncertain when only what was set
        aside before keeps it from fitting."""
        have = self.available.get(participant_id, ZERO)
        earlier = self.set_aside.get(participant_id, ZERO)
        if fits(Account.Kind.AVAILABLE, have - earlier - amount):
            return
        if earlier:
            raise FundsUncertain(f"participant {participant_id}: {need}")
        raise InsufficientFunds.for_need(need, have)

    def take(self, *, participant_id: int, amount: Decimal) -> None:
        """Set `amount` aside (after `check`)."""
        self.set_aside[participant_id] += amount
