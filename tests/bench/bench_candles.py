"""Candles of a year of trading on PostgreSQL: the API candles endpoint against
525,600 one-minute candles of one instrument (and their 8,760 hour and 365 day
candles), with a few trades beyond the watermark that every read folds in.

    python -m tests.bench.bench_candles [--runs 30] [--base postgres://...]

Creates a throw-away database, bulk-loads the candles with COPY, then times
in-process requests (the whole Django and DRF stack, no network) for: the newest
page of 1000 minute candles; a page of 1000 half a year back, reached by its
cursor; and the 365 day candles of the year. Target: under 100 ms each. Prints a
markdown table of the median and 95th percentile per request, and the selector's
share of it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.scratch_db import database_create, database_drop  # noqa: E402

MINUTES = 365 * 24 * 60
TARGET_MS = 100
SYMBOL = "BENCH-CANDLES"


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench")
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ["EXCHANGE_API_THROTTLE_RATE"] = "1000000/s"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()


def _instrument():
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from exchange.services.instruments import instrument_create
    from market.models import WorkloadProfile

    call_command("migrate", verbosity=0)
    call_command("load_catalogue", verbosity=0)
    with transaction.atomic():
        return instrument_create(
            profile=WorkloadProfile.objects.get(code="train"),
            delivery_start=timezone.now() + timedelta(days=2),
            hours=24,
            symbol=SYMBOL,
            opening_price=Decimal("10.00"),
            price_band_pct=None,
        )


def _minute_bars(first: datetime):
    """A year of minute bars: a slow random walk around 10 CNY per SCU-h."""
    import random

    from exchange.marketdata import bars as b

    rng = random.Random(7)
    cents, sequence = 1000, 0
    for i in range(MINUTES):
        prints = []
        for _ in range(rng.randint(1, 3)):
            cents = max(500, min(1500, cents + rng.randint(-3, 3)))
            sequence += 2
            prints.append(
                b.Print(
                    sequence,
                    first + timedelta(minutes=i, seconds=rng.randint(0, 59)),
                    Decimal(cents) / 100,
                    Decimal(rng.randint(1, 200)) / 10,
                )
            )
        yield prints


def _load(instrument) -> int:
    """COPY the 1m, 1h and 1d candles of the year; returns the last sequence."""
    from django.db import connection

    from exchange.marketdata import bars as b
    from exchange.marketdata.fold import CANDLE_VALUES
    from exchange.models import Candle, CandleWatermark

    now = datetime.now(b.SHANGHAI).replace(second=0, microsecond=0)
    first = now - timedelta(minutes=MINUTES)
    coarse: dict[str, dict] = {"1h": {}, "1d": {}}
    columns = ("instrument_id", "interval", "start", *CANDLE_VALUES)
    sql = f"COPY {Candle._meta.db_table} ({', '.join(columns)}) FROM STDIN"
    last = 0
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for prints in _minute_bars(first):
            minute: dict = {}
            b.fold(minute, prints, "1m")
            for bar in minute.values():
                copy.write_row(_row(instrument.pk, "1m", bar, CANDLE_VALUES))
            for interval, bars in coarse.items():
                b.fold(bars, prints, interval)
            last = prints[-1].sequence
        for interval, bars in coarse.items():
            for bar in bars.values():
                copy.write_row(_row(instrument.pk, interval, bar, CANDLE_VALUES))
    CandleWatermark.objects.create(instrument=instrument, sequence=last)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Candle._meta.db_table}")
    return last


def _row(instrument_id: int, interval: str, bar, names) -> tuple:
    return (instrument_id, interval, bar.start, *(getattr(bar, n) for n in names))


def _pending_trades(instrument, after: int, count: int = 20) -> None:
    """Trades beyond the watermark: what a read folds in on the fly."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from exchange.models import Order, Trade
    from market.models import ChipModel, Cluster, Participant, Region

    region = Region.objects.get(code="CLU-GUIAN")
    people = []
    for name in ("bench-seller", "bench-buyer"):
        user = get_user_model().objects.create_user(name)
        people.append(
            Participant.objects.create(user=user, display_name=name, home_region=region)
        )
    cluster = Cluster.objects.create(
        participant=people[0],
        name="c",
        region=region,
        chip=ChipModel.objects.get(code="nvidia-a100-80gb-sxm"),
        count=1000,
    )
    common = {
        "instrument": instrument,
        "type": "limit",
        "time_in_force": "GTC",
        "price": Decimal("10.00"),
        "quantity": Decimal("1.0"),
        "remaining_quantity": Decimal("1.0"),
        "region": region,
        "conversion_version": 1,
        "surcharge_version": 1,
    }
    sell = Order.objects.create(
        participant=people[0], side="sell", cluster=cluster, **common
    )
    buy = Order.objects.create(participant=people[1], side="buy", **common)
    Trade.objects.bulk_create(
        Trade(
            instrument=instrument,
            buy_order=buy,
            sell_order=sell,
            buyer=people[1],
            seller=people[0],
            price=Decimal("10.00"),
            surcharge=Decimal(0),
            all_in_price=Decimal("10.00"),
            quantity=Decimal("1.0"),
            aggressor="buy",
            buyer_fee=Decimal(0),
            seller_fee=Decimal(0),
            sell_region=region,
            buy_region=region,
            sequence=after + 2 * (i + 1),
            executed_at=timezone.now() - timedelta(seconds=count - i),
        )
        for i in range(count)
    )


def _time(fn, runs: int) -> list[float]:
    fn()  # warm: connections, caches, the plan
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _cases(instrument) -> list[tuple[str, dict]]:
    from exchange.marketdata import bars as b

    half_year = datetime.now(b.SHANGHAI) - timedelta(days=182)
    return [
        ("1m, newest page of 1000", {"interval": "1m", "limit": 1000}),
        (
            "1m, page of 1000 half a year back (cursor)",
            {"interval": "1m", "limit": 1000, "cursor": int(half_year.timestamp())},
        ),
        ("1d, the whole year", {"interval": "1d", "limit": 366}),
    ]


def _measure(instrument, runs: int) -> list[tuple[str, list[float], list[float], int]]:
    from django.test import Client

    from exchange.api.market_serializers import CandleQuery
    from exchange.marketdata.candles import candle_list

    client = Client()
    url = f"/api/v1/instruments/{SYMBOL}/candles/"
    results = []
    for name, params in _cases(instrument):
        response = client.get(url, params)
        assert response.status_code == 200, response.content[:300]
        count = len(response.json()["results"])

        def api(params=params):
            assert client.get(url, params).status_code == 200

        query = CandleQuery(data={k: str(v) for k, v in params.items()})
        query.is_valid(raise_exception=True)
        data = query.validated_data

        def selector(data=data):
            candle_list(
                instrument=instrument,
                interval=data["interval"],
                before=data.get("cursor"),
                limit=data["limit"],
            )

        results.append((name, _time(api, runs), _time(selector, runs), count))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--base", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    name = database_create(args.base, "yiwang_bench_candles")
    try:
        _setup_django(f"{args.base}/{name}")
        instrument = _instrument()
        started = time.perf_counter()
        last = _load(instrument)
        loaded = time.perf_counter() - started
        _pending_trades(instrument, last)
        results = _measure(instrument, args.runs)
    finally:
        from django.db import connections

        connections.close_all()
        database_drop(args.base, name)
    print(f"\nLoaded {MINUTES:,} one-minute candles (+ 1h, 1d) in {loaded:.1f} s.")
    print(
        "\n| GET /api/v1/instruments/{symbol}/candles/ | candles | median ms |", end=""
    )
    print(" p95 ms | selector median ms | target |")
    print("|---|---:|---:|---:|---:|---|")
    for label, api, selector, count in results:
        p95 = sorted(api)[int(0.95 * (len(api) - 1))]
        verdict = "ok" if statistics.median(api) < TARGET_MS else "MISSED"
        print(
            f"| {label} | {count} | {statistics.median(api):.1f} | {p95:.1f} | "
            f"{statistics.median(selector):.1f} | < {TARGET_MS} ms {verdict} |"
        )
    print(
        f"\n{os.cpu_count()} cores; {args.runs} runs each after one warm-up, "
        "in-process (Django test client: middleware, DRF, JSON), 20 trades beyond "
        "the watermark folded into every read."
    )


if __name__ == "__main__":
    main()
