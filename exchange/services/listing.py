"""What the scheduler lists: per profile its listing plan (the day, and blocks of
hours within it), each product's window and symbol, and the price it opens at.

Symbols: a Shanghai day is `TRAIN-20261208`; a block is `TRAIN-20261208-B0004`
(its start and end hour, API.md "Time"); any other window is an operator's special,
`TRAIN-20261208-M1030-10` (`instrument_symbol`). Reads only; the listing itself is
`exchange.services.instruments.instruments_list`.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

from exchange.exceptions import InvalidOrder
from exchange.models import Instrument, ListingPlan
from exchange.models.listing import block_code, parse_blocks
from market.models import WorkloadProfile

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = timedelta(hours=24)
Product = Instrument.Product


@dataclass(frozen=True, slots=True)
class Listing:
    """One product the plan lists: its window, product, block and symbol."""

    profile: WorkloadProfile
    start: datetime
    window: timedelta
    product: str
    block: str | None
    symbol: str


def instrument_symbol(
    profile: WorkloadProfile, start: datetime, window: timedelta
) -> str:
    """`TRAIN-20261201` for a Shanghai day; any other window is
    `TRAIN-20261201-M1030-10`: its start's Shanghai date and time (HHMM, or HHMMSS
    off the minute) and its length in minutes, so each window has its own."""
    local = start.astimezone(SHANGHAI)
    day = f"{profile.code.upper()}-{local:%Y%m%d}"
    if window == DAY and local.time() == time(0):
        return day
    clock = f"{local:%H%M%S}" if local.second or local.microsecond else f"{local:%H%M}"
    return f"{day}-M{clock}-{window // timedelta(minutes=1)}"


def block_symbol(profile: WorkloadProfile, day_start: datetime, block: str) -> str:
    """`TRAIN-20261208-B0004` for the block "00-04" of 2026-12-08."""
    start, end = block.split("-")
    return (
        f"{profile.code.upper()}-{day_start.astimezone(SHANGHAI):%Y%m%d}-B{start}{end}"
    )


def product_check(
    *, product: str, block: str | None, start: datetime, window: timedelta
) -> None:
    """A day is a whole Shanghai day; a block names its hours, which its window
    spans within one day; a special names no block. Raises InvalidOrder."""
    local = start.astimezone(SHANGHAI)
    if product == Product.DAY:
        ok = block is None and window == DAY and local.time() == time(0)
    elif product == Product.BLOCK:
        hours = parse_blocks(block or "") if block else []
        ok = len(hours) == 1 and block == block_code(*hours[0])
        if ok:
            begin, end = hours[0]
            ok = local.time() == time(begin) and window == timedelta(hours=end - begin)
    else:
        ok = product == Product.SPECIAL and block is None
    if not ok:
        raise InvalidOrder(
            f"A {product} product cannot have this window or block.",
            fields={"product": ["does not fit the window"]},
        )


def plan_for(profile: WorkloadProfile) -> tuple[bool, list[tuple[int, int]]]:
    """(list the day?, blocks as hour pairs): the profile's plan in admin, else the
    settings' default (blocks of EXCHANGE_LISTING_BLOCK_HOURS for the profiles of
    EXCHANGE_LISTING_BLOCK_PROFILES)."""
    plan = ListingPlan.objects.filter(profile=profile).first()
    if plan is not None:
        return plan.list_day, parse_blocks(plan.blocks)
    hours = settings.EXCHANGE_LISTING_BLOCK_HOURS
    if not hours or profile.code not in settings.EXCHANGE_LISTING_BLOCK_PROFILES:
        return True, []
    return True, [(h, h + hours) for h in range(0, 24, hours) if 24 % hours == 0]


def listings_for(profile: WorkloadProfile, day_starts: list[datetime]) -> list[Listing]:
    """What the profile's plan lists on these Shanghai days, in delivery order."""
    list_day, blocks = plan_for(profile)
    out = []
    for day in day_starts:
        if list_day:
            symbol = instrument_symbol(profile, day, DAY)
            out.append(Listing(profile, day, DAY, Product.DAY, None, symbol))
        for begin, end in blocks:
            code = block_code(begin, end)
            out.append(
                Listing(
                    profile,
                    day + timedelta(hours=begin),
                    timedelta(hours=end - begin),
                    Product.BLOCK,
                    code,
                    block_symbol(profile, day, code),
                )
            )
    return out


def opening_price(listing: Listing) -> Decimal | None:
    """The last price of the previous instrument of the same profile and product
    (and block); for a block never traded, the profile's last day price; else the
    setting's opening price of the profile, else none (no band until a trade)."""
    earlier = Instrument.objects.filter(
        profile=listing.profile,
        delivery_start__lt=listing.start,
        last_price__isnull=False,
    ).order_by("-delivery_start")
    same = earlier.filter(product=listing.product, block=listing.block).first()
    if same is None and listing.product == Product.BLOCK:
        same = earlier.filter(product=Product.DAY).first()
    if same is not None:
        return same.last_price
    price = settings.EXCHANGE_OPENING_PRICES.get(listing.profile.code)
    return Decimal(price) if price is not None else None


def day_starts(now: datetime, days: int) -> list[datetime]:
    """Shanghai midnights of the coming `days` days after today."""
    today = now.astimezone(SHANGHAI).date()
    return [
        datetime.combine(today + timedelta(days=n), time(0), SHANGHAI)
        for n in range(1, days + 1)
    ]
