"""Every operation of the REST API, once, for both clients (`Client` sends each
`Call` and returns the model, `AsyncClient` returns a coroutine of it).

Parameters are the API's own names (`from` is `from_`); decimals are `Decimal` or
`str` (never float); list parameters take a list. Paths, fields and statuses: the
API's contract (`/api/docs/`).
"""

from yiwang_client.operations.account import AccountOperations
from yiwang_client.operations.market import MarketOperations
from yiwang_client.operations.reference import ReferenceOperations
from yiwang_client.operations.trading import TradingOperations


class Operations(
    ReferenceOperations, MarketOperations, TradingOperations, AccountOperations
):
    """The API's operations; a subclass sends the calls (see `calls.Operation`)."""


__all__ = ["Operations"]
