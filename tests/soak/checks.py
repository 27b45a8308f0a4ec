"""What the soak checks once every window has settled, on its own database (Django is
set up by `tests.soak.__main__` before this module is imported). Each check returns
the violations it found, as lines of the report; none is the pass."""

from collections import Counter, defaultdict
from decimal import Decimal

from django.db.models import Q, Sum

from exchange.internal import book_replayed, book_rows
from exchange.models import Instrument, Order, Trade
from settlement import money
from settlement.models import Account, Hold, JournalEntry, Obligation
from tests.soak.bots import Recorder

ZERO = Decimal(0)


def orders_as_told(rec: Recorder) -> list[str]:
    """Every order a bot was told was accepted exists once, with that id; none exists
    that no bot sent; a retried request never made a second order; an order a bot
    was finally refused does not exist."""
    out = []
    stored = defaultdict(list)
    for pk, participant, coid in Order.objects.values_list(
        "pk", "participant_id", "client_order_id"
    ):
        stored[participant, coid].append(pk)
    for key, pks in stored.items():
        if key[1] is None or key not in rec.orders:
            out.append(f"orders {pks} of participant {key[0]}: no bot sent {key[1]!r}")
        elif len(pks) > 1:
            out.append(f"{key[1]}: {len(pks)} orders {pks} for one client_order_id")
    for key, record in rec.orders.items():
        told = {oid for status, oid, _ in record.answers if status in (200, 201)}
        final = record.answers[-1] if record.answers else (None, None, None)
        pks = stored.get(key, [])
        if len(told) > 1:
            out.append(f"{record.coid}: retries were told different orders {told}")
        if told and pks != sorted(told):
            out.append(f"{record.coid}: told order {told}, stored {pks}")
        if final[0] is not None and 400 <= final[0] < 500 and pks:
            out.append(f"{record.coid}: refused ({final[2]}) yet stored as {pks}")
    return out


def fills_add_up() -> list[str]:
    """filled + remaining never exceeds the quantity; the trades add up to the
    filled quantity; a finished order rests nothing."""
    traded = Counter()
    for buy, sell, quantity in Trade.objects.values_list(
        "buy_order_id", "sell_order_id", "quantity"
    ):
        traded[buy] += quantity
        traded[sell] += quantity
    out = []
    for order in Order.objects.only(
        "pk", "quantity", "filled_quantity", "remaining_quantity", "status"
    ).iterator():
        filled, left = order.filled_quantity, order.remaining_quantity
        if filled + left > order.quantity:
            out.append(f"order {order.pk}: filled {filled} + {left} > {order.quantity}")
        if traded[order.pk] != filled:
            out.append(f"order {order.pk}: filled {filled}, trades {traded[order.pk]}")
        if not order.is_open and left:
            out.append(f"order {order.pk} is {order.status} with {left} resting")
    return out


def books_match_event_log(dumps: list[dict]) -> list[str]:
    """Each warm book a web process dumped equals the book rebuilt from the event
    log at the dump's sequence number."""
    out = []
    instruments = {i.symbol: i for i in Instrument.objects.all()}
    for dump in dumps:
        inst = instruments[dump["symbol"]]
        if dump["sequence"] > inst.sequence:
            out.append(
                f"{dump['symbol']}: pid {dump['pid']} on {dump['node']} is at "
                f"{dump['sequence']}, past the log's {inst.sequence}"
            )
            continue
        replayed = book_rows(book_replayed(inst, dump["sequence"]))
        if replayed != dump["orders"]:
            mine = {o["order_id"]: o for o in dump["orders"]}
            log = {o["order_id"]: o for o in replayed}
            differ = sorted(
                k for k in mine.keys() | log.keys() if mine.get(k) != log.get(k)
            )
            out.append(
                f"{dump['symbol']} at {dump['sequence']}: pid {dump['pid']} on "
                f"{dump['node']} differs from the log in orders {differ[:10]}"
            )
    return out


def settled_once() -> list[str]:
    """Every trade settled, by exactly one settlement entry; every hold resolved;
    every instrument whose trades are settled is itself settled."""
    out = [
        f"trade {t} is {s}"
        for t, s in Obligation.objects.exclude(status="settled").values_list(
            "trade_id", "status"
        )
    ]
    keys = Counter(
        JournalEntry.objects.filter(
            idempotency_key__startswith="settle:trade:"
        ).values_list("idempotency_key", flat=True)
    )
    for trade_id in Trade.objects.values_list("pk", flat=True):
        if keys[f"settle:trade:{trade_id}"] != 1:
            out.append(
                f"trade {trade_id}: {keys[f'settle:trade:{trade_id}']} settlements"
            )
    out += [f"hold {h} still open" for h in Hold.objects.filter(status="open")]
    traded = set(Trade.objects.values_list("instrument__symbol", flat=True))
    out += [
        f"{symbol} traded and is {state}"
        for symbol, state in Instrument.objects.filter(symbol__in=traded)
        .exclude(state="settled")
        .values_list("symbol", "state")
    ]
    return out


def money_conserved(deposited: Decimal) -> list[str]:
    """Deposits in = participants' balances + platform accounts (fees, network,
    escrow); fees and network payouts are what the delivered quantities owe."""
    totals = dict(
        Account.objects.values_list("kind").annotate(s=Sum("balance")).order_by()
    )
    out = []
    if -totals.get("external", ZERO) != deposited:
        out.append(
            f"external holds {totals.get('external')}, deposits were {deposited}"
        )
    inside = sum((v for k, v in totals.items() if k != "external"), ZERO)
    if inside != deposited:
        out.append(f"deposits {deposited} != balances and platform accounts {inside}")
    for kind in ("held", "bond", "escrow"):
        if totals.get(kind, ZERO):
            out.append(f"{kind} holds {totals[kind]} after every window settled")
    fees = network = ZERO
    for ob in Obligation.objects.filter(status="settled"):
        delivered = ob.delivered_quantity or ZERO
        fees += money.fee(money.money(delivered * ob.all_in_price), ob.buyer_fee_bps)
        fees += money.fee(money.money(delivered * ob.price), ob.seller_fee_bps)
        network += money.money(delivered * ob.surcharge)
    if totals.get("fees", ZERO) != fees:
        out.append(f"fees accounts {totals.get('fees')} != fees owed {fees}")
    paid = (
        JournalEntry.objects.filter(kind="network_payout").aggregate(
            s=Sum("postings__amount", filter=Q(postings__amount__gt=0))
        )["s"]
        or ZERO
    )
    if paid + totals.get("network", ZERO) != network:
        out.append(f"network paid {paid} + owed {totals.get('network')} != {network}")
    return out
