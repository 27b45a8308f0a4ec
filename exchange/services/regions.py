"""Region suspension (DESIGN.md "Operators"): an operator stops trading in a region
after a power shortage or a network fault, and resumes it.

Suspending records the suspension, then cancels every resting sell of the region's
clusters (reason `region_suspended`, holds and bonds released as for any cancel):
it locks every instrument that can hold orders, in key order as placement does, so a
sell placed in a region while it is being suspended is either cancelled here or
refused by placement, which reads the suspensions after the same locks. Buys whose
origin is the region are refused from then on; other buys never meet its asks, as
none rest. Settlement treats the overlap of a trade's window with a suspension of
its delivery region as force majeure (settlement.services).
"""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from core.db import read_now
from exchange import codec, engine
from exchange.entry import run_durable
from exchange.exceptions import ExchangeError, NotFound
from exchange.models import Instrument, Order
from exchange.persistence import instruments_lock_read
from exchange.services.command import command_run
from market import selectors as market_selectors
from market.audit import audit_record
from market.models import Region, RegionSuspension
from market.scopes import require_region

REASON = "region_suspended"


class SuspensionConflict(ExchangeError):
    """The region is already suspended, or not suspended when resuming."""

    code = "region_suspension_conflict"


def region_suspend(
    *, region: str, reason: str, operator: AbstractBaseUser
) -> tuple[RegionSuspension, list[int]]:
    """Entry point: suspend trading in `region` (a code). Returns the suspension and
    the ids of the sells it cancelled."""
    reason = reason.strip()
    if not reason:
        raise ExchangeError(
            "A suspension needs a reason.", fields={"reason": ["Required."]}
        )
    return run_durable(
        _suspend, code=region, reason=reason, operator=operator, now=timezone.now()
    )


def _suspend(*, code: str, reason: str, operator, now: datetime):
    region = _region_for_update(code)
    require_region(operator, region)
    if RegionSuspension.objects.filter(region=region, ended_at__isnull=True).exists():
        raise SuspensionConflict(f"{code} is already suspended.")
    suspension = RegionSuspension.objects.create(
        region=region, reason=reason[:255], started_at=now, started_by=operator
    )
    cancelled = _cancel_sells(region, now, caused_by_id=operator.pk)
    transaction.on_commit(market_selectors.regions_suspended_forget)
    audit_record(
        operator=operator,
        action="region.suspend",
        target=region,
        before={"suspended": False},
        after={"suspended": True, "sells_cancelled": len(cancelled)},
        reason=reason,
    )
    return suspension, cancelled


def region_resume(
    *, region: str, operator: AbstractBaseUser, reason: str = ""
) -> RegionSuspension:
    """Entry point: lift the region's suspension; its providers may sell again."""
    return run_durable(
        _resume, code=region, operator=operator, reason=reason, now=timezone.now()
    )


def _resume(*, code: str, operator, reason: str, now: datetime) -> RegionSuspension:
    region = _region_for_update(code)
    require_region(operator, region)
    suspension = RegionSuspension.objects.filter(
        region=region, ended_at__isnull=True
    ).first()
    if suspension is None:
        raise SuspensionConflict(f"{code} is not suspended.")
    suspension.ended_at, suspension.ended_by = now, operator
    suspension.save(update_fields=["ended_at", "ended_by"])
    transaction.on_commit(market_selectors.regions_suspended_forget)
    audit_record(
        operator=operator,
        action="region.resume",
        target=region,
        before={"suspended": True, "since": suspension.started_at},
        after={"suspended": False},
        reason=reason.strip(),
    )
    return suspension


def _region_for_update(code: str) -> Region:
    """The region's row, locked: suspensions and resumptions of one region queue.
    FOR NO KEY UPDATE: an order or obligation written meanwhile takes a key-share
    lock on it (its foreign key) while holding its instrument's lock, which this
    transaction wants next."""
    region = Region.objects.select_for_update(no_key=True).filter(code=code).first()
    if region is None:
        raise NotFound(f"No region {code!r}.")
    return region


def _cancel_sells(region: Region, now: datetime, *, caused_by_id: int) -> list[int]:
    """Cancel the region's resting sells on every instrument that can hold them,
    the instruments locked first (all of them, in key order)."""
    symbols = set(
        Instrument.objects.filter(
            state__in=(Instrument.State.OPEN, Instrument.State.HALTED)
        ).values_list("symbol", flat=True)
    )
    if not symbols:
        return []
    locked = read_now(instruments_lock_read(symbols))
    resting = Order.objects.filter(
        instrument__symbol__in=locked,
        side=Order.Side.SELL,
        region=region,
        status__in=Order.OPEN_STATUSES,
    ).order_by("instrument_id", "pk")
    by_instrument: dict[int, list[Order]] = {}
    for order in resting:
        by_instrument.setdefault(order.instrument_id, []).append(order)
    cancelled: list[int] = []
    for instrument in sorted(locked.values(), key=lambda i: i.pk):
        orders = by_instrument.get(instrument.pk)
        if not orders:
            continue
        at = codec.instant(now)

        def cancel_all(book: engine.Book, orders=orders, at=at) -> list[engine.Event]:
            # An order that expired meanwhile is no longer live: nothing to cancel.
            events = [e for o in orders for e in book.cancel(o.pk, at, REASON)]
            return [e for e in events if not isinstance(e, engine.Rejected)]

        command_run(
            instrument,
            now,
            cancel_all,
            caused_by_id=caused_by_id,
            orders={o.pk: o for o in orders},
        )
        cancelled += [o.pk for o in orders if o.status == Order.Status.CANCELLED]
    return cancelled
