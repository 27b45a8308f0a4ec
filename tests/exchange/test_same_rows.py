"""SQLite and PostgreSQL run the same placement pipeline: one scenario (single orders,
a batch with one bad order, a crossing sell, an amend, a cancel) leaves every row it
writes, normalized, equal to the snapshot committed in `golden/placement.json`, on
either database. Regenerate it with `YIWANG_GOLDEN=write` (and say why in the
commit): a change in it is a change in what the exchange writes."""

import json
import os
import re
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db.models import DateTimeField, ForeignKey, Model

from exchange.models import ClusterCommitment, Instrument, Order, OrderEvent, Trade
from exchange.services.orders import order_amend, order_cancel
from exchange.services.placement import order_place, orders_place_batch
from exchange.services.requests import OrderRequest
from market.models import Cluster, Participant, Region
from settlement.models import Account, Hold, JournalEntry, Obligation, Posting
from tests.exchange.conftest import make_buyer, make_instrument, make_seller

pytestmark = pytest.mark.django_db
GOLDEN = Path(__file__).parent / "golden" / "placement.json"
START = datetime(2036, 3, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
# When a row was written, not what it says.
WRITTEN_AT = {"created_at", "updated_at", "executed_at", "resolved_at", "posted_at"}


def _scenario() -> None:
    instrument = make_instrument(start=START)
    symbol = instrument.symbol
    alice, bob = make_buyer(money=20_000), make_buyer(money=5_000)
    seller = make_seller()

    def buy(price, quantity, **kw):
        return OrderRequest(
            instrument=symbol,
            side="buy",
            price=Decimal(price),
            quantity=Decimal(quantity),
            **kw,
        )

    order_place(participant=alice, request=buy("12.00", "10.0"))
    bobs = order_place(participant=bob, request=buy("11.90", "5.0")).order
    batch = orders_place_batch(
        participant=alice,
        requests=[
            buy("11.95", "5.0", client_order_id="a-1"),
            buy("12.00", "9000.0"),  # more than alice can hold
            buy("11.80", "2.0", client_order_id="a-3"),
        ],
    )
    sell = OrderRequest(
        instrument=symbol,
        side="sell",
        price=Decimal("11.00"),  # crosses with the network surcharge to Shanghai
        quantity=Decimal("12.0"),
        cluster=seller.cluster.pk,
    )
    order_place(participant=seller, request=sell)
    order_amend(participant=bob, order_id=bobs.pk, price=Decimal("11.95"))
    order_cancel(participant=alice, order_id=batch[0].order.pk)  # partly filled


def _ranks(model: type[Model]) -> dict[int, int]:
    """Each row's rank by key: keys differ between databases and runs, not order."""
    return {
        pk: i
        for i, pk in enumerate(
            model.objects.order_by("pk").values_list("pk", flat=True)
        )
    }


class _Normalizer:
    MODELS = {"order": Order, "trade": Trade, "participant": Participant}

    def __init__(self) -> None:
        self.ranks = {
            model: _ranks(model)
            for model in (Order, Trade, JournalEntry, Participant, Cluster, Instrument)
        }
        self.ranks[get_user_model()] = _ranks(get_user_model())
        self.regions = dict(Region.objects.values_list("pk", "code"))

    def text(self, value: str) -> str:
        """References inside keys and strings ("order:12", "participant:3"); the
        test helpers' deposit keys count across the whole session."""
        value = re.sub(r"\bfx:\d+", "fx:*", value)
        return re.sub(
            r"\b(order|trade|participant):(\d+)",
            lambda m: f"{m[1]}:#{self.ranks[self.MODELS[m[1]]][int(m[2])]}",
            value,
        )

    def event_data(self, data: dict) -> dict:
        def walk(value, key=""):
            if isinstance(value, dict):
                return {k: walk(v, k) for k, v in value.items()}
            if key.endswith("order_id") and isinstance(value, int):
                return self.ranks[Order][value]
            if key == "participant_id" and isinstance(value, int):
                return self.ranks[Participant][value]
            return value

        return walk(data)

    def row(self, obj: Model, *, keep_pk: bool = True) -> dict:
        out = {}
        for f in obj._meta.concrete_fields:
            value = getattr(obj, f.attname)
            if f.primary_key:
                if keep_pk:
                    out["#"] = self.ranks[type(obj)][value]
                continue
            if f.name in WRITTEN_AT and isinstance(f, DateTimeField):
                continue
            if isinstance(f, ForeignKey) and value is not None:
                target = f.related_model
                value = (
                    self.regions[value]
                    if target is Region
                    else self.ranks.get(target, {}).get(value, "?")
                )
            elif f.attname == "request_hash":  # hashes key values (a cluster's)
                value = bool(value)
            elif f.attname == "trade_id":  # settlement's own record of the trade
                value = self.ranks[Trade][value]
            elif f.attname == "data" and isinstance(value, dict):
                value = self.event_data(value)
            elif isinstance(value, str):
                value = self.text(value)
            out[f.name] = _plain(value)
        return out


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, dict | list):
        return json.loads(json.dumps(value, default=str, sort_keys=True))
    return value


def _account_key(n: _Normalizer, account: Account) -> str:
    owner = n.ranks[Participant].get(account.participant_id, "-")
    return f"{account.kind}/{owner}/{account.instrument}"


def _snapshot() -> dict:
    n = _Normalizer()
    accounts = {a.pk: _account_key(n, a) for a in Account.objects.all()}
    return {
        "instruments": [
            n.row(i, keep_pk=False) for i in Instrument.objects.order_by("pk")
        ],
        "orders": [n.row(o) for o in Order.objects.order_by("pk")],
        "events": [
            n.row(e, keep_pk=False) for e in OrderEvent.objects.order_by("sequence")
        ],
        "trades": [n.row(t) for t in Trade.objects.order_by("pk")],
        "obligations": [
            n.row(o, keep_pk=False) for o in Obligation.objects.order_by("trade_id")
        ],
        "commitments": sorted(
            (n.row(c, keep_pk=False) for c in ClusterCommitment.objects.all()),
            key=json.dumps,
        ),
        "accounts": sorted(
            [accounts[a.pk], str(a.balance)] for a in Account.objects.all()
        ),
        "entries": [n.row(e) for e in JournalEntry.objects.order_by("pk")],
        "postings": sorted(
            [n.ranks[JournalEntry][p.entry_id], accounts[p.account_id], str(p.amount)]
            for p in Posting.objects.all()
        ),
        "holds": sorted(
            (n.row(h, keep_pk=False) for h in Hold.objects.all()),
            key=lambda h: (h["kind"], h["reference"]),
        ),
    }


def test_placement_writes_the_golden_rows_on_either_database():
    """Every row the scenario writes, normalized (keys as ranks, write times left
    out), is the committed snapshot: SQLite and PostgreSQL both match it."""
    _scenario()
    got = _snapshot()
    if os.environ.get("YIWANG_GOLDEN") == "write":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    want = json.loads(GOLDEN.read_text())
    for table in want:
        assert got[table] == want[table], table
    assert got.keys() == want.keys()
    # The scenario did what it says: a fill, a refusal, an amend and a cancel.
    assert len(got["trades"]) == 2
    statuses = sorted(o["status"] for o in got["orders"])
    assert statuses.count("cancelled") == 1
    assert any(e["kind"] == "amended" for e in got["events"])
