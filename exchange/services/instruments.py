"""Instrument lifecycle: listing (scheduled and by operators), GTD expiry, gate
closure, halt and resume, and marking instruments settled once their trades are.

Each `*_run` function is an entry point (its own durable transaction per instrument);
the rest run inside the caller's transaction under the instrument's lock.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from exchange import codec
from exchange.entry import run_durable
from exchange.exceptions import InstrumentNotOpen, InvalidOrder
from exchange.locks import instrument_for_update
from exchange.models import Instrument, Order
from exchange.services.command import command_run
from market import selectors as market_selectors
from market.models import WorkloadProfile
from settlement import services as settlement_services
from settlement.models import Obligation
from settlement.tasks import due_obligations

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_BAND_PCT = Decimal(20)


def _day_symbol(profile: WorkloadProfile, start: datetime) -> str:
    return f"{profile.code.upper()}-{start.astimezone(SHANGHAI):%Y%m%d}"


def instrument_create(
    *,
    profile: WorkloadProfile,
    delivery_start: datetime,
    hours: int,
    symbol: str | None = None,
    opening_price: Decimal | None = None,
    price_band_pct: Decimal | None = DEFAULT_BAND_PCT,
    automatic: bool = False,
) -> Instrument:
    """List an instrument bound to the tables in effect now. Runs in the caller's
    transaction; a taken symbol raises InvalidOrder."""
    if hours <= 0 or hours > 24 * 31:
        raise InvalidOrder("hours must be from 1 to 744.", fields={"hours": ["range"]})
    if delivery_start <= timezone.now():
        raise InvalidOrder(
            "The delivery window must start in the future.",
            fields={"delivery_start": ["in the past"]},
        )
    if symbol is None:
        symbol = _day_symbol(profile, delivery_start)
        if hours != 24:
            symbol += f"T{delivery_start.astimezone(SHANGHAI):%H}H{hours}"
    instrument = Instrument(
        symbol=symbol,
        profile=profile,
        delivery_start=delivery_start,
        delivery_end=delivery_start + timedelta(hours=hours),
        gate_closure_at=delivery_start,
        opening_price=opening_price,
        reference_price=opening_price,
        price_band_pct=price_band_pct,
        conversion_table=market_selectors.conversion_table_current(),
        surcharge_table=market_selectors.surcharge_table_current(profile=profile),
        listed_automatically=automatic,
    )
    instrument.full_clean()
    try:
        with transaction.atomic():
            instrument.save()
    except IntegrityError as exc:
        raise InvalidOrder(
            f"Symbol {symbol} is taken.", fields={"symbol": ["taken"]}
        ) from exc
    return instrument


def instruments_list(*, days: int, now: datetime | None = None) -> list[Instrument]:
    """Entry point: list each profile's daily instrument for the coming `days`
    (idempotent). An instrument opens at the previous one's last price."""
    now = now or timezone.now()
    today = now.astimezone(SHANGHAI).date()
    created = []
    for profile in WorkloadProfile.objects.order_by("code"):
        for offset in range(1, days + 1):
            start = datetime.combine(today + timedelta(days=offset), time(0), SHANGHAI)
            if Instrument.objects.filter(symbol=_day_symbol(profile, start)).exists():
                continue
            created.append(run_durable(_list_one, profile=profile, start=start))
    return [i for i in created if i is not None]


def _list_one(*, profile: WorkloadProfile, start: datetime) -> Instrument | None:
    previous = (
        Instrument.objects.filter(
            profile=profile, delivery_start__lt=start, last_price__isnull=False
        )
        .order_by("-delivery_start")
        .first()
    )
    opening = previous.last_price if previous else None
    if opening is None and profile.code in settings.EXCHANGE_OPENING_PRICES:
        opening = Decimal(settings.EXCHANGE_OPENING_PRICES[profile.code])
    try:
        return instrument_create(
            profile=profile,
            delivery_start=start,
            hours=24,
            automatic=True,
            opening_price=opening,
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
    return [run_durable(_close, instrument_id=pk, now=now) for pk in sorted(due)]


def _close(*, instrument_id: int, now: datetime) -> str:
    instrument = instrument_for_update(instrument_id)
    if instrument.state in (Instrument.State.OPEN, Instrument.State.HALTED):
        command_run(instrument, now, lambda b: b.close(codec.instant(now), "gate"))
        Instrument.objects.filter(pk=instrument.pk).update(
            state=Instrument.State.CLOSED, closed_at=now
        )
    return instrument.symbol


def instrument_halt_set(*, instrument_id: int, halted: bool) -> Instrument:
    """Entry point for operators: halt (new orders get 409) or resume trading."""
    return run_durable(_halt, instrument_id=instrument_id, halted=halted)


def _halt(*, instrument_id: int, halted: bool) -> Instrument:
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
    for trade_id in due_obligations(now).values_list("trade_id", flat=True):
        run_durable(settlement_services.trade_settle, trade_id=trade_id, now=now)
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
    pending = Obligation.objects.filter(instrument=instrument.symbol).exclude(
        status=Obligation.Status.SETTLED
    )
    if instrument.state != Instrument.State.CLOSED or pending.exists():
        return None
    settlement_services.network_payout(instrument=instrument.symbol)
    instrument.state = Instrument.State.SETTLED
    instrument.settled_at = now
    instrument.save(update_fields=["state", "settled_at"])
    return instrument.symbol
