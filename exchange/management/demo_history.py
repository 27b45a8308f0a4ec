"""The demo's delivery history, so that its providers start with different records
and a bid's `min_reliability` visibly changes what trades.

One special instrument, `DEMO-HISTORY`, a day that starts a few minutes after the
seed: each provider sells to the Beijing lab through the book, the instrument closes
as at its gate (so the bots, which trade the next open instrument, never pick it),
then each provider delivers its share (one reports late, one has a dispute decided
against it by the demo's operator), the lab confirms, and every trade settles, each
step through the same services as ever, with the clock of the step (the window's,
not the wall's). The providers' scores then follow the published formula from these
trades. A whole day, so that its sells commit few chips at any instant and leave
the clusters' capacity to the demo's quotes.
"""

from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from exchange.models import Instrument, Trade
from exchange.services.instruments import instrument_close, instrument_create
from exchange.services.placement import order_place
from exchange.services.requests import OrderRequest
from market.models import Participant, WorkloadProfile
from settlement import interface as settlement

SYMBOL = "DEMO-HISTORY"
BUYER = "bjlab"
LOT = Decimal("0.1")
# provider: (cluster, SCU-h sold, share delivered, reported late, share an operator
# sets after the buyer's dispute)
RECORDS = {
    "guian": ("GA-910B", "300.0", "1.0", False, None),
    "horinger": ("HR-H100", "300.0", "1.0", False, None),
    "wuhu": ("WH-H100", "300.0", "0.95", True, None),
    "zhongwei": ("ZW-A800", "300.0", "0.9", False, "0.5"),
}


def history_seed(operator_username: str) -> Instrument | None:
    """Trade, deliver and settle the history (once: None if it exists)."""
    if Instrument.objects.filter(symbol=SYMBOL).exists():
        return None
    start = (timezone.now() + timedelta(minutes=10)).replace(second=0, microsecond=0)
    with transaction.atomic(durable=True):
        instrument = instrument_create(
            profile=WorkloadProfile.objects.get(code="train"),
            delivery_start=start,
            hours=24,
            symbol=SYMBOL,
            opening_price=Decimal("10.00"),
            price_band_pct=None,
        )
    total = _trade(instrument)
    instrument_close(instrument_id=instrument.pk, now=start)
    operator = get_user_model().objects.get(username=operator_username)
    for trade in Trade.objects.filter(instrument=instrument).select_related("seller"):
        _deliver(trade, instrument, operator)
    return instrument if total else None


def _trade(instrument: Instrument) -> Decimal:
    """Each provider's ask, then the lab's bid that takes them all."""
    total = Decimal(0)
    for username, (cluster, quantity, *_rest) in RECORDS.items():
        seller = Participant.objects.get(user__username=username)
        order_place(
            participant=seller,
            request=OrderRequest(
                instrument=instrument.symbol,
                side="sell",
                quantity=Decimal(quantity),
                price=Decimal("9.50"),
                cluster=seller.clusters.get(name=cluster).pk,
                client_order_id=f"demo-history-{username}",
            ),
        )
        total += Decimal(quantity)
    order_place(
        participant=Participant.objects.get(user__username=BUYER),
        request=OrderRequest(
            instrument=instrument.symbol,
            side="buy",
            quantity=total,
            price=Decimal("12.00"),
            time_in_force="IOC",
            client_order_id="demo-history-buy",
        ),
    )
    return total


def _deliver(trade: Trade, instrument: Instrument, operator) -> None:
    """Report, confirm (or dispute and decide), settle: each at its moment."""
    _cluster, _q, share, late, decided = RECORDS[trade.seller.user.username]
    end = instrument.delivery_end
    delivered = (trade.quantity * Decimal(share)).quantize(LOT, ROUND_FLOOR)
    buyer = Participant.objects.get(pk=trade.buyer_id)
    when = end + timedelta(minutes=5) if late else end - timedelta(minutes=5)
    with transaction.atomic(durable=True):
        settlement.delivery_report(
            participant=trade.seller, trade_id=trade.pk, delivered=delivered, now=when
        )
    with transaction.atomic(durable=True):
        if decided is None:
            settlement.delivery_confirm(participant=buyer, trade_id=trade.pk, now=when)
        else:
            settlement.delivery_dispute(
                participant=buyer, trade_id=trade.pk, now=when, reason="demo"
            )
            settlement.dispute_resolve(
                trade_id=trade.pk,
                delivered=(trade.quantity * Decimal(decided)).quantize(LOT),
                resolved_by=operator,
                now=when + timedelta(minutes=1),
            )
    with transaction.atomic(durable=True):
        settled_at = max(when, end) + timedelta(minutes=2)
        settlement.trade_settle(trade_id=trade.pk, now=settled_at)
