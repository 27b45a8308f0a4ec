"""The exchange's domain errors; the API maps each `code` to its status."""

from market.exceptions import DomainError


class ExchangeError(DomainError):
    """The exchange refused the request."""


class InvalidOrder(ExchangeError):
    """The order is malformed or names something that does not exist (400)."""

    code = "validation_error"


class OffGrid(InvalidOrder):
    """A price or quantity off the instrument's tick or lot grid (400)."""


class NotFound(ExchangeError):
    code = "not_found"


class PermissionDenied(ExchangeError):
    code = "permission_denied"


class InstrumentNotOpen(ExchangeError):
    """The instrument is not open for trading."""

    code = "instrument_not_open"


class OrderNotOpen(ExchangeError):
    """The order is already done, or is not a resting limit order."""

    code = "order_not_open"


class ClientOrderIdConflict(ExchangeError):
    """This client_order_id was used before with another request body."""

    code = "client_order_id_conflict"


class InsufficientCapacity(ExchangeError):
    """The cluster's chips are already committed for this window."""

    code = "insufficient_capacity"


class ClusterNotVerified(ExchangeError):
    """The cluster awaits an operator's check of its region, chips and count; it
    cannot sell until then."""

    code = "cluster_not_verified"


class RegionSuspended(ExchangeError):
    """An operator has suspended trading in the region (a power shortage, a network
    fault): no sells from its clusters, no buys from it."""

    code = "region_suspended"


class PriceOutOfBand(ExchangeError):
    """The price lies outside the instrument's price band."""

    code = "price_out_of_band"


class PriceRequired(ExchangeError):
    """A market order on an instrument without a price band must carry a price."""

    code = "price_required"


class FokNotFillable(ExchangeError):
    """The fill-or-kill order cannot be filled in full now; nothing was done."""

    code = "fok_not_fillable"


class PostOnlyWouldCross(ExchangeError):
    """The post-only order would trade on arrival; nothing was done."""

    code = "post_only_would_cross"


class OrderFailed(ExchangeError):
    """The order could not be placed because of an internal error; nothing was
    written for it, and the other orders placed with it were placed without it."""

    code = "internal_error"


class DuplicateClientOrderId(Exception):
    """Another transaction wrote an order with this client_order_id first: not a
    refusal, the request is answered as the replay of that order."""
