"""Order placement through the services on PostgreSQL: the whole path (validation,
instrument lock, funds check, warm book, matching, ledger batch, event log).

    python -m tests.bench.bench_services [--orders 2000] [--url postgres://...]

Creates a throw-away database, lists four instruments, then measures orders/s for one
instrument from one process, and for four instruments from four processes at once
(each its own sequencing domain). The stream is 70% resting limit orders around a mid
price and 30% crossing ones. Prints a markdown table with the ratio of the two.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.scratch_db import database_create, database_drop  # noqa: E402


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench")
    # Fills queue a candle fold after commit; no worker runs here, so the queue is
    # in memory (the demo's filesystem transport needs `make run`'s directories).
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()


def _seed(instruments: int) -> list[tuple[str, list[int], list[int]]]:
    """Instruments, each with its own funded buyers and sellers with clusters."""
    from datetime import timedelta
    from decimal import Decimal

    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from exchange.services.instruments import instrument_create
    from market.models import ChipModel, Cluster, Participant, Region, WorkloadProfile
    from settlement.services import deposit_post

    call_command("migrate", verbosity=0)
    call_command("load_catalogue", verbosity=0)
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    out = []
    start = timezone.now() + timedelta(days=2)
    for i in range(instruments):
        with transaction.atomic():
            inst = instrument_create(
                profile=WorkloadProfile.objects.get(code="train"),
                delivery_start=start + timedelta(days=i),
                hours=24,
                symbol=f"BENCH-{i}",
                opening_price=Decimal("10.00"),
                price_band_pct=Decimal(50),
            )
            buyers, sellers = [], []
            for j, (region, side) in enumerate(
                [
                    ("CITY-SH", "b"),
                    ("CITY-BJ", "b"),
                    ("CLU-GUIAN", "s"),
                    ("CLU-WUHU", "s"),
                ]
            ):
                user = user_model.objects.create_user(f"bench{i}-{j}")
                p = Participant.objects.create(
                    user=user,
                    display_name=user.username,
                    is_buyer=side == "b",
                    is_seller=side == "s",
                    home_region=Region.objects.get(code=region),
                )
                deposit_post(participant=p, amount=Decimal(10**9), key=f"bench:{p.pk}")
                if side == "s":
                    Cluster.objects.create(
                        participant=p,
                        name="c",
                        region=p.home_region,
                        count=100_000,
                        chip=ChipModel.objects.get(code="nvidia-a100-80gb-sxm"),
                    )
                    sellers.append(p.pk)
                else:
                    buyers.append(p.pk)
            out.append((inst.symbol, buyers, sellers))
    return out


def _stream(n: int, seed: int) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    orders = []
    for _ in range(n):
        side = rng.choice(["buy", "sell"])
        crossing = rng.random() < 0.3
        offset = rng.randint(1, 40)
        if side == "buy":
            cents = 1000 + 80 + offset if crossing else 1000 - offset
        else:
            cents = 1000 - offset if crossing else 1000 + 80 + offset
        orders.append((side, f"{cents / 100:.2f}", f"{rng.randint(1, 50)}.0"))
    return orders


def _run(
    url: str,
    symbol: str,
    buyers: list[int],
    sellers: list[int],
    n: int,
    seed: int,
    results,
) -> None:
    _setup_django(url)
    from decimal import Decimal

    from exchange.services.placement import order_place
    from exchange.services.requests import OrderRequest
    from market.models import Participant

    people = {p.pk: p for p in Participant.objects.filter(pk__in=buyers + sellers)}
    clusters = {p.pk: p.clusters.get().pk for p in people.values() if p.is_seller}
    stream = _stream(n, seed)
    rng = random.Random(seed)
    start = time.perf_counter()
    for side, price, qty in stream:
        who = people[rng.choice(buyers if side == "buy" else sellers)]
        request = OrderRequest(
            instrument=symbol,
            side=side,
            quantity=Decimal(qty),
            price=Decimal(price),
            cluster=clusters.get(who.pk) if side == "sell" else None,
        )
        order_place(participant=who, request=request)
    results.put((symbol, n, time.perf_counter() - start))


def _measure(url: str, seeded, n: int, processes: int) -> float:
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_run, args=(url, *seeded[i], n, i, results))
        for i in range(processes)
    ]
    start = time.perf_counter()
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=3600) for _ in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - start
    busiest = max(seconds for _s, _n, seconds in outcomes)
    return sum(count for _s, count, _t in outcomes) / min(wall, busiest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=2000, help="orders per process")
    parser.add_argument("--base", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    name = database_create(args.base, "yiwang_bench")
    url = f"{args.base}/{name}"
    try:
        ctx = mp.get_context("spawn")
        with ctx.Pool(1) as pool:
            seeded = pool.apply(_seed_in_child, (url,))
        one = _measure(url, seeded[:1], args.orders, 1)
        four = _measure(url, seeded[1:], args.orders, 4) if len(seeded) >= 5 else None
    finally:
        database_drop(args.base, name)
    print("\n| placement through the services (PostgreSQL) | orders/s | ratio |")
    print("|---|---:|---:|")
    print(f"| one instrument, one process | {one:,.0f} | 1.00 |")
    if four is not None:
        print(f"| four instruments, four processes | {four:,.0f} | {four / one:.2f} |")
    print(
        f"\n{os.cpu_count()} cores; {args.orders} orders per process, "
        "70% resting / 30% crossing."
    )


def _seed_in_child(url: str):
    _setup_django(url)
    return _seed(5)


if __name__ == "__main__":
    main()
