"""Ledger helpers for settlement tests: balances, deposits, a fill without the book."""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from settlement import interface, money
from settlement.ledger import Batch
from settlement.models import Account
from settlement.services import deposit_post

_keys = iter(range(10**9))


def balance(participant, kind="available") -> Decimal:
    account = Account.objects.filter(participant=participant, kind=kind).first()
    return account.balance if account else Decimal(0)


def platform(kind, instrument) -> Decimal:
    account = Account.objects.filter(kind=kind, instrument=instrument).first()
    return account.balance if account else Decimal(0)


def deposit(participant, amount) -> None:
    with transaction.atomic():
        deposit_post(
            participant=participant, amount=Decimal(amount), key=f"t:{next(_keys)}"
        )


def window(start=None):
    start = start or timezone.now() + timedelta(days=1)
    end = start + timedelta(hours=24)
    return start, end, end + timedelta(hours=2), end + timedelta(hours=26)


def trade(
    *,
    buyer,
    seller,
    trade_id,
    quantity,
    price,
    surcharge="0.00",
    limit=None,
    buyer_bps=10,
    seller_bps=5,
    bond_rate="0.10",
    instrument="TEST-1",
    start=None,
    region=None,
):
    """Place a buy hold and a sell bond for exactly `quantity`, fill them in full,
    and release what the orders no longer need: the money path of one trade."""
    q, p, s = Decimal(quantity), Decimal(price), Decimal(surcharge)
    limit = Decimal(limit) if limit else p + s
    buy_id, sell_id = trade_id * 2, trade_id * 2 + 1
    batch = Batch()
    interface.buy_hold_set(
        batch,
        participant_id=buyer.pk,
        order_id=buy_id,
        instrument=instrument,
        amount=money.buy_hold(
            quantity=q, limit=limit, maker_bps=buyer_bps, taker_bps=buyer_bps
        ),
        cause="place",
    )
    interface.sell_bond_set(
        batch,
        participant_id=seller.pk,
        order_id=sell_id,
        instrument=instrument,
        amount=money.sell_bond(quantity=q, price=p, bond_rate=Decimal(bond_rate)),
        cause="place",
    )
    start, end, report, confirm = window(start)
    obligation = interface.fill_record(
        batch,
        interface.Fill(
            trade_id=trade_id,
            instrument=instrument,
            buyer_id=buyer.pk,
            seller_id=seller.pk,
            buy_order_id=buy_id,
            sell_order_id=sell_id,
            quantity=q,
            price=p,
            surcharge=s,
            buyer_fee_bps=buyer_bps,
            seller_fee_bps=seller_bps,
            sell_price=p,
            bond_rate=Decimal(bond_rate),
            delivery_start=start,
            delivery_end=end,
            report_deadline=report,
            confirm_deadline=confirm,
            region_id=region.pk if region is not None else None,
        ),
    )
    for side, pid, oid in (("buy", buyer.pk, buy_id), ("sell", seller.pk, sell_id)):
        interface.order_release(
            batch,
            side=side,
            participant_id=pid,
            order_id=oid,
            instrument=instrument,
            cause="filled",
        )
    batch.commit()
    interface.obligations_save([obligation])
    return obligation
