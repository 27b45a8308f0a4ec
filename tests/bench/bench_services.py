"""Order placement through the services on PostgreSQL: the whole path (validation,
instrument lock, funds check, warm book, matching, ledger batch, event log).

    python -m tests.bench.bench_services [--orders 2000] [--url postgres://...]

Creates a throw-away database, lists four instruments, then measures orders/s for one
instrument from one process, and for four instruments from four processes at once
(each its own sequencing domain). The stream is 70% resting limit orders around a mid
price and 30% crossing ones. Prints a markdown table with the ratio of the two.

With `--listing blocks` (the default) it then compares one instrument's rate on two
more databases the scheduler listed for 7 days: days only, and days with six 4-hour
blocks each (7 products per profile), the measured day's sellers resting sells in
its blocks, so every capacity check reads overlapping windows.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import statistics
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
    from market.models import WorkloadProfile

    call_command("migrate", verbosity=0)
    call_command("load_catalogue", verbosity=0)
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
            buyers, sellers = _traders(f"bench{i}")
            out.append((inst.symbol, buyers, sellers))
    return out


def _traders(prefix: str) -> tuple[list[int], list[int]]:
    """Two funded buyers (Shanghai, Beijing) and two sellers with clusters (Gui'an,
    Wuhu): participant ids."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from market.models import ChipModel, Cluster, Participant, Region
    from settlement.services import deposit_post

    user_model = get_user_model()
    buyers, sellers = [], []
    for j, (region, side) in enumerate(
        [("CITY-SH", "b"), ("CITY-BJ", "b"), ("CLU-GUIAN", "s"), ("CLU-WUHU", "s")]
    ):
        user = user_model.objects.create_user(f"{prefix}-{j}")
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
                verified_at=timezone.now(),
            )
            sellers.append(p.pk)
        else:
            buyers.append(p.pk)
    return buyers, sellers


def _seed_listing(blocks: bool) -> tuple[str, list[int], list[int], int]:
    """The scheduler's listing for 7 days, with blocks (the day and six 4-hour
    blocks per profile: 7 x 7 per profile) or days only; the measured instrument is
    train's day in 2 days. Its sellers' clusters also rest a sell in each of six
    other products: its blocks (their windows overlap the measured day's, so every
    capacity check sees them), or, with days only, six other days."""
    from datetime import timedelta
    from decimal import Decimal

    from django.core.management import call_command
    from django.db import transaction
    from django.test import override_settings
    from django.utils import timezone

    from exchange.models import Instrument
    from exchange.services.instruments import instruments_list
    from exchange.services.placement import order_place
    from exchange.services.requests import OrderRequest
    from market.models import Participant, WorkloadProfile

    call_command("migrate", verbosity=0)
    call_command("load_catalogue", verbosity=0)
    every = [p.code for p in WorkloadProfile.objects.all()]
    with override_settings(
        EXCHANGE_LISTING_BLOCK_HOURS=4 if blocks else 0,
        EXCHANGE_LISTING_BLOCK_PROFILES=every,
    ):
        instruments_list(days=7)
    day = timezone.localtime(timezone.now()).date() + timedelta(days=2)
    name = f"TRAIN-{day:%Y%m%d}"
    Instrument.objects.filter(symbol=name).update(price_band_pct=Decimal(50))
    with transaction.atomic():
        buyers, sellers = _traders("listing")
    others = Instrument.objects.filter(profile__code="train").exclude(symbol=name)
    others = (
        others.filter(symbol__startswith=f"{name}-B")
        if blocks
        else others.filter(product="day")
    )
    for seller in Participant.objects.filter(pk__in=sellers):
        for inst in others.order_by("delivery_start")[:6]:
            request = OrderRequest(
                instrument=inst.symbol,
                side="sell",
                quantity=Decimal("100.0"),
                price=Decimal("11.50"),
                cluster=seller.clusters.get().pk,
            )
            order_place(participant=seller, request=request)
    listed = Instrument.objects.count()
    return name, buyers, sellers, listed


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
    parser.add_argument(
        "--listing",
        choices=["none", "blocks"],
        default="blocks",
        help="blocks: also compare one instrument's rate with 7 days x 7 products "
        "listed per profile against the daily-only listing, in interleaved rounds",
    )
    parser.add_argument("--rounds", type=int, default=2, help="rounds per listing")
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
    if args.listing == "blocks":
        _compare_listings(args)


def _compare_listings(args) -> None:
    """One instrument, one process, on two databases listed by the scheduler: days
    only, and days with their blocks; rounds interleaved (days, blocks, days, ...)
    so that both see the same machine; the median round of each."""
    ctx = mp.get_context("spawn")
    names, urls, seeded = {}, {}, {}
    try:
        for mode in ("days", "blocks"):
            names[mode] = database_create(args.base, f"yiwang_bench_{mode}")
            urls[mode] = f"{args.base}/{names[mode]}"
            with ctx.Pool(1) as pool:
                seeded[mode] = pool.apply(
                    _seed_listing_in_child, (urls[mode], mode == "blocks")
                )
        rates: dict[str, list[float]] = {"days": [], "blocks": []}
        for _round in range(args.rounds):
            for mode in ("days", "blocks"):
                symbol, buyers, sellers, _listed = seeded[mode]
                rate = _measure(urls[mode], [(symbol, buyers, sellers)], args.orders, 1)
                rates[mode].append(rate)
    finally:
        for name in names.values():
            database_drop(args.base, name)
    days, blocks = statistics.median(rates["days"]), statistics.median(rates["blocks"])
    listed = {mode: seeded[mode][3] for mode in seeded}
    print("\n| one instrument, one process, by listing | listed | orders/s | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| days only (7 x 1 per profile) | {listed['days']} | {days:,.0f} | 1.00 |")
    print(
        f"| days and blocks (7 x 7 per profile) | {listed['blocks']} "
        f"| {blocks:,.0f} | {blocks / days:.2f} |"
    )
    pairs = zip(rates["days"], rates["blocks"], strict=True)
    rounds = ", ".join(f"{d:,.0f}/{b:,.0f}" for d, b in pairs)
    print(f"\nrounds (days/blocks): {rounds}; medians of {args.rounds} rounds.")


def _seed_listing_in_child(url: str, blocks: bool):
    _setup_django(url)
    return _seed_listing(blocks)


def _seed_in_child(url: str):
    _setup_django(url)
    return _seed(5)


if __name__ == "__main__":
    main()
