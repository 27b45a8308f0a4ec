"""Money arithmetic of the market, in Decimal, to 4 places (see DESIGN.md, Units and
money). Prices are on a 0.01 tick and quantities on a 0.1 lot, so price x quantity is
exact at 4 places; fees and bonds are rounded, always in the direction that can never
make the ledger owe more than it holds."""

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

CENT4 = Decimal("0.0001")
BPS = Decimal(10_000)


def money(value: Decimal) -> Decimal:
    """Exact amounts (price x quantity) to 4 places; refuses to round silently."""
    rounded = value.quantize(CENT4)
    if rounded != value:
        raise ValueError(f"{value} is not a whole number of 0.0001 CNY")
    return rounded


def fee(notional: Decimal, bps: int) -> Decimal:
    """A fee on `notional`, rounded down (fees are >= 0 bps; no rebates)."""
    return (notional * bps / BPS).quantize(CENT4, ROUND_FLOOR)


def buy_hold(
    *, quantity: Decimal, limit: Decimal, maker_bps: int, taker_bps: int
) -> Decimal:
    """What a buy sets aside: qty x limit, plus the fee at the larger rate (rounded
    up)."""
    notional = money(quantity * limit)
    fee_part = (notional * max(maker_bps, taker_bps) / BPS).quantize(
        CENT4, ROUND_CEILING
    )
    return notional + fee_part


def sell_bond(*, quantity: Decimal, price: Decimal, bond_rate: Decimal) -> Decimal:
    """A resting sell's collateral, rounded up."""
    return (bond_rate * quantity * price).quantize(CENT4, ROUND_CEILING)


def trade_bond(*, quantity: Decimal, price: Decimal, bond_rate: Decimal) -> Decimal:
    """The share of the sell's bond attached to a fill, rounded down, so that what is
    attached plus the hold the remainder needs never exceeds the hold it came from."""
    return (bond_rate * quantity * price).quantize(CENT4, ROUND_FLOOR)


def penalty(*, bond: Decimal, undelivered: Decimal, quantity: Decimal) -> Decimal:
    """The buyer's compensation for a shortfall: the bond pro rata, rounded down."""
    return (bond * undelivered / quantity).quantize(CENT4, ROUND_FLOOR)
