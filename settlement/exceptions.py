"""Settlement's domain errors (mapped to the API envelope by their `code`)."""

from market.exceptions import DomainError


class SettlementError(DomainError):
    """Settlement refused the request."""


class InsufficientFunds(SettlementError):
    """The available balance does not cover what this needs.

    From the ledger: `account` is the account that would have gone below zero, and
    `available` its balance before the refused entry."""

    code = "insufficient_funds"

    def __init__(
        self,
        message: str = "",
        *,
        fields: dict | None = None,
        account: tuple | None = None,
        available=None,
    ) -> None:
        super().__init__(message, fields=fields)
        self.account, self.available = account, available

    @classmethod
    def for_need(cls, need: str, available) -> "InsufficientFunds":
        """The refusal of something that needs `need` (in words) when `available`
        CNY is."""
        return cls(f"This order needs {need}; {available} CNY is available.")


class UnbalancedEntry(SettlementError):
    """A journal entry's postings do not sum to zero."""

    code = "unbalanced_entry"


class HoldAlreadyResolved(SettlementError):
    """The hold was already released: it resolves exactly once."""

    code = "hold_resolved"


class DeliveryNotAllowed(SettlementError):
    """The delivery step is not possible for this trade now."""

    code = "delivery_not_allowed"


class NotFound(SettlementError):
    code = "not_found"


class FundsMoved(Exception):
    """A balance read without a lock (a snapshot) moved before the writes that
    relied on it: a concurrent transaction drew it down, and the database refused
    the overdraft. Not a refusal of the request: decide again with the accounts
    locked."""


class FundsUncertain(Exception):
    """An amount does not fit beside what this unit of work has already set aside,
    and those set-asides are upper bounds (a fill may use less than its limit
    allows): only an exact decision, order by order, can tell."""
