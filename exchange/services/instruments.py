"""Instrument lifecycle: listing (scheduled and by operators), GTD expiry, gate
closure, halt and resume, and marking instruments settled once their trades are.

Each `*_run` function is an entry point (its own durable transaction per instrument);
the rest run inside the caller's transaction under the instrument's lock.
"""

from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from exchange import codec
from exchange.entry import run_durable
from exchange.exceptions import InstrumentNotOpen, InvalidOrder
from exchange.locks import instrument_for_update
from exchange.marketdata.candles import trade_figures
from exchange.models import Instrument, Order
from exchange.services.command import command_run
from exchange.services.listing import (
    DAY,
    SHANGHAI,
    Listing,
    block_symbol,
    day_starts,
    instrument_symbol,
    listings_for,
    opening_price,
    product_check,
)
from market import selectors as market_selectors
from market.models import WorkloadProfile
from settlement import interface as settlement

__all__ = ["instrument_symbol"]  # where the listing code found it before
DEFAULT_BAND_PCT = Decimal(20)
MAX_WINDOW = timedelta(days=31)
# A day's report deadline and confirmation grace (the model's defaults). A shorter
# window gets the same share of its length, never less than the floors, so a drill's
# whole cycle runs in minutes while a client still has a few sweeps to act in.
DAY_REPORT_DEADLINE = timedelta(hours=2)
DAY_CONFIRM_GRACE = timedelta(hours=24)
REPORT_DEADLINE_FLOOR = timedelta(seconds=30)
CONFIRM_GRACE_FLOOR = timedelta(seconds=60)


def deadlines_for(window: timedelta) -> tuple[timedelta, timedelta]:
    """(report deadline after the window's end, confirmation grace after that) for a
    window: a day's, scaled down to shorter windows, with a floor."""
    share = min(window / DAY, 1.0)
    report = timedelta(seconds=round(DAY_REPORT_DEADLINE.total_seconds() * share))
    grace = timedelta(seconds=round(DAY_CONFIRM_GRACE.total_seconds() * share))
    return max(report, REPORT_DEADLINE_FLOOR), max(grace, CONFIRM_GRACE_FLOOR)


def _window(hours: int | None, minutes: int | None) -> timedelta:
    if (hours is None) == (minutes is None):
        raise InvalidOrder(
            "Give the window in hours or in minutes.", fields={"hours": ["one of"]}
        )
    window = timedelta(hours=hours or 0, minutes=minutes or 0)
    if not timedelta(minutes=1) <= window <= MAX_WINDOW:
        raise InvalidOrder(
            "A window lasts from 1 minute to 744 hours.", fields={"hours": ["range"]}
        )
    return window


def instrument_create(
    *,
    profile: WorkloadProfile,
    delivery_start: datetime,
    hours: int | None = None,
    minutes: int | None = None,
    symbol: str | None = None,
    opening_price: Decimal | None = None,
    price_band_pct: Decimal | None = DEFAULT_BAND_PCT,
    automatic: bool = False,
    product: str = Instrument.Product.SPECIAL,
    block: str | None = None,
) -> Instrument:
    """List an instrument bound to the tables in effect now, its window given in
    `hours` or `minutes` (its deadlines scale with it: `deadlines_for`): an
    operator's special by default, or a product of the listing plan (a day, or a
    `block` such as "00-04", whose window must fit it). Runs in the caller's
    transaction; a taken symbol raises InvalidOrder."""
    window = _window(hours, minutes)
    if delivery_start <= timezone.now():
        raise InvalidOrder(
            "The delivery window must start in the future.",
            fields={"delivery_start": ["in the past"]},
        )
    product_check(product=product, block=block, start=delivery_start, window=window)
    if symbol is None and product == Instrument.Product.BLOCK:
        symbol = block_symbol(profile, delivery_start, block or "")
    symbol = symbol or instrument_symbol(profile, delivery_start, window)
    report_deadline, confirm_grace = deadlines_for(window)
    instrument = Instrument(
        symbol=symbol,
        profile=profile,
        delivery_start=delivery_start,
        delivery_end=delivery_start + window,
        gate_closure_at=delivery_start,
        report_deadline=report_deadline,
        confirm_grace=confirm_grace,
        opening_price=opening_price,
        reference_price=opening_price,
        price_band_pct=price_band_pct,
        conversion_table=market_selectors.conversion_table_current(),
        surcharge_table=market_selectors.surcharge_table_current(profile=profile),
        listed_automatically=automatic,
        product=product,
        block=block,
    )
    instrument.full_clean(validate_unique=False)  # a taken symbol: IntegrityError
    try:
        with transaction.atomic():
            instrument.save()
    except IntegrityError as exc:
        raise InvalidOrder(
            f"Symbol {symbol} is taken.", fields={"symbol": ["taken"]}
        ) from exc
    return instrument


def instruments_list(*, days: int, now: datetime | None = None) -> list[Instrument]:
    """Entry point: list what the schedule lists next (idempotent): each profile's
    listing plan (its day and blocks) for the coming `days`, or, with
    EXCHANGE_LISTING_WINDOW_MINUTES set, its next EXCHANGE_LISTING_WINDOWS_AHEAD
    windows of that many minutes (drills, demos, the soak: specials). A product
    opens at the previous one's last price (`listing.opening_price`)."""
    now = now or timezone.now()
    profiles = WorkloadProfile.objects.order_by("code")
    if settings.EXCHANGE_LISTING_PROFILES:
        profiles = profiles.filter(code__in=settings.EXCHANGE_LISTING_PROFILES)
    wanted: list[Listing] = []
    for profile in profiles:
        if minutes := settings.EXCHANGE_LISTING_WINDOW_MINUTES:
            window = timedelta(minutes=minutes)
            starts = window_starts(now, window, settings.EXCHANGE_LISTING_WINDOWS_AHEAD)
            wanted += [
                Listing(
                    profile,
                    s,
                    window,
                    Instrument.Product.SPECIAL,
                    None,
                    instrument_symbol(profile, s, window),
                )
                for s in starts
            ]
        else:
            wanted += listings_for(profile, day_starts(now, days))
    taken = set(
        Instrument.objects.filter(symbol__in=[w.symbol for w in wanted]).values_list(
            "symbol", flat=True
        )
    )
    created = [
        run_durable(_list_one, listing=listing)
        for listing in wanted
        if listing.symbol not in taken
    ]
    return [i for i in created if i is not None]


def window_starts(now: datetime, window: timedelta, count: int) -> list[datetime]:
    """The starts of the next `count` windows after `now`, on a grid of `window`
    from Shanghai midnight (a divisor of a day tiles it)."""
    midnight = datetime.combine(now.astimezone(SHANGHAI).date(), time(0), SHANGHAI)
    first = midnight + ((now - midnight) // window + 1) * window
    return [first + window * n for n in range(count)]


def _list_one(*, listing: Listing) -> Instrument | None:
    try:
        return instrument_create(
            profile=listing.profile,
            delivery_start=listing.start,
            minutes=listing.window // timedelta(minutes=1),
            symbol=listing.symbol,
            automatic=True,
            opening_price=opening_price(listing),
            product=listing.product,
            block=listing.block,
        )
    except InvalidOrder:
        return None  # listed concurrently


def orders_expire_run(*, now: datetime | None = None) -> int:
    """Entry point: expire due GTD orders, one transaction per instrument."""
    now = now or timezone.now()
    due = (
        Order.objects.filter(status__in=Order.OPEN_STATUSES, expires_at__lte=now)
        .values_list("instrument_id", flat=True)
        .distinct()
    )
    count = 0
    for instrument_id in sorted(set(due)):
        count += run_durable(_expire_in, instrument_id=instrument_id, now=now)
    return count


def _expire_in(*, instrument_id: int, now: datetime) -> int:
    instrument = instrument_for_update(instrument_id)
    command = command_run(instrument, now, lambda b: b.expire(codec.instant(now)))
    return sum(o.status == Order.Status.EXPIRED for o in command.orders.values())


def instruments_close_run(*, now: datetime | None = None) -> list[str]:
    """Entry point: at gate closure, cancel what rests and release its holds."""
    now = now or timezone.now()
    due = Instrument.objects.filter(
        state__in=[Instrument.State.OPEN, Instrument.State.HALTED],
        gate_closure_at__lte=now,
    ).values_list("pk", flat=True)
    return [instrument_close(instrument_id=pk, now=now) for pk in sorted(due)]


def instrument_close(*, instrument_id: int, now: datetime) -> str:
    """Entry point: close one instrument at `now` (what the gate does to it)."""
    return run_durable(_close, instrument_id=instrument_id, now=now)


def _close(*, instrument_id: int, now: datetime) -> str:
    instrument = instrument_for_update(instrument_id)
    if instrument.state in (Instrument.State.OPEN, Instrument.State.HALTED):
        command_run(instrument, now, lambda b: b.close(codec.instant(now), "gate"))
        Instrument.objects.filter(pk=instrument.pk).update(
            state=Instrument.State.CLOSED,
            closed_at=now,
            settlement_price=settlement_price(instrument),
        )
    return instrument.symbol


def settlement_price(instrument: Instrument) -> Decimal | None:
    """The volume-weighted site price of the instrument's trades, half-up to its
    tick; None without trades. At the gate no trade can follow, so it is final."""
    figures = trade_figures([instrument])[instrument.pk]
    if not figures.volume:
        return None
    vwap = figures.notional / figures.volume
    tick = instrument.tick_size
    return (vwap / tick).quantize(Decimal(1), ROUND_HALF_UP) * tick


def instrument_halt_set(*, instrument_id: int, halted: bool) -> Instrument:
    """Entry point for operators: halt (new orders get 409) or resume trading."""
    return run_durable(do_instrument_halt, instrument_id=instrument_id, halted=halted)


def do_instrument_halt(*, instrument_id: int, halted: bool) -> Instrument:
    """Inside the caller's transaction: lock the instrument and halt or resume it."""
    instrument = instrument_for_update(instrument_id)
    wanted = Instrument.State.HALTED if halted else Instrument.State.OPEN
    allowed = Instrument.State.OPEN if halted else Instrument.State.HALTED
    if instrument.state != allowed:
        raise InstrumentNotOpen(f"{instrument.symbol} is {instrument.state}.")
    instrument.state = wanted
    instrument.save(update_fields=["state"])
    return instrument


def instruments_settle_run(*, now: datetime | None = None) -> list[str]:
    """Entry point: settle every due trade (one transaction each), then mark the
    instruments whose trades are all settled. Celery does the same in two tasks."""
    now = now or timezone.now()
    for trade_id in settlement.due_trade_ids(now):
        run_durable(settlement.trade_settle, trade_id=trade_id, now=now)
    return instruments_mark_settled_run(now=now)


def instruments_mark_settled_run(*, now: datetime | None = None) -> list[str]:
    """Entry point: closed instruments past their window whose trades are all
    settled become `settled`, and the network operator is paid its surcharges."""
    now = now or timezone.now()
    closed = Instrument.objects.filter(
        state=Instrument.State.CLOSED, delivery_end__lte=now
    ).values_list("pk", flat=True)
    return [
        symbol
        for pk in closed
        if (symbol := run_durable(_mark_settled, instrument_id=pk, now=now))
    ]


def _mark_settled(*, instrument_id: int, now: datetime) -> str | None:
    instrument = instrument_for_update(instrument_id)
    if instrument.state != Instrument.State.CLOSED or settlement.unsettled_exists(
        instrument.symbol
    ):
        return None
    settlement.network_payout(instrument=instrument.symbol)
    instrument.state = Instrument.State.SETTLED
    instrument.settled_at = now
    instrument.save(update_fields=["state", "settled_at"])
    return instrument.symbol
