"""Domain errors. Every app's errors derive from DomainError; the API maps its `code`
to an HTTP status and the error envelope (market/api/errors.py)."""


class DomainError(Exception):
    """A rule of the market refused the request. `code` is the API's error code."""

    code = "validation_error"

    def __init__(self, message: str = "", *, fields: dict | None = None) -> None:
        super().__init__(message or self.__doc__ or self.code)
        self.message = str(message or self.__doc__ or self.code).strip()
        self.fields = fields or {}


class InvalidCharacter(DomainError):
    """NUL characters (U+0000) are not accepted."""

    code = "invalid_character"


class MarketError(DomainError):
    """The catalogue refused the request."""


class ImmutableRecordError(MarketError):
    """A published table (or one of its rows) cannot be changed."""

    code = "immutable_record"


class NoConversionFactor(MarketError):
    """The chip has no conversion factor for this profile (a metric is unpublished)."""

    code = "no_conversion_factor"


class NoPublishedTable(MarketError):
    """Nothing has been published yet for what was asked."""

    code = "no_published_table"


class ProposalError(MarketError):
    """The four-eyes proposal cannot be decided so."""

    code = "proposal_error"


class ProposalNotPending(ProposalError):
    """The proposal was already approved, rejected or expired."""

    code = "proposal_not_pending"


class ProposalExpired(ProposalError):
    """The proposal expired (24 hours after it was made): propose it again."""

    code = "proposal_expired"


class SelfApproval(ProposalError):
    """An operator cannot approve its own proposal: a second operator must."""

    code = "self_approval"


class ProposalExists(ProposalError):
    """A pending proposal already acts on this."""

    code = "proposal_exists"
