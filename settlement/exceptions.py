"""Settlement's domain errors (mapped to the API envelope by their `code`)."""

from market.exceptions import DomainError


class SettlementError(DomainError):
    """Settlement refused the request."""


class InsufficientFunds(SettlementError):
    """The available balance does not cover what this needs."""

    code = "insufficient_funds"


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
