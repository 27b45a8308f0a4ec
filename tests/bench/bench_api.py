"""The REST API under load: gunicorn (2 workers, as in the Procfile) on PostgreSQL,
driven by a small asyncio httpx load generator on loopback.

    python -m tests.bench.bench_api [--requests 3000] [--concurrency 16]

Creates a throw-away database seeded by the management commands, starts gunicorn with
the hidden benchmark endpoint switched on, and measures:

  (a) baseline: POST /api/v1/_bench/, a bare DRF endpoint that writes one row through
      the same authentication, throttles (Redis when it answers), renderer and
      middleware as the trading endpoints;
  (b) POST /api/v1/orders/ with resting limit orders;
  (c) the same with 30% crossing orders (fills, escrow, obligations);
  (d) POST /api/v1/orders/batch/ with 20 orders each (30% crossing), and with
      100, the most a batch takes: as many orders as (b) and (c) send, and at least
      4 batches per connection in each round, so that every connection stays busy.

All orders go to one instrument, so they queue on its lock: the worst case. The
scenarios take turns in rounds (a slice of each per round), so that noise from the
shared machine falls on all of them alike. Prints a markdown table: requests/s,
orders/s, p50 and p99 latency, and the ratio of each throughput to the baseline's;
and the busy CPU (every process, /proc/stat) per order, with the same ratio of it,
which a shared machine's neighbours move much less than the rates.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
SYMBOL = "BENCH-API"
TRADERS = 8  # buyers and as many sellers, each with its own key
BATCHES_PER_LINK = 4  # the least number of batches per connection and round


@dataclass
class Result:
    name: str
    requests: int
    orders: int
    seconds: float
    latencies: list[float]
    cpu_seconds: float = 0.0  # the machine's busy CPU time while it ran

    @property
    def cpu_ms(self) -> float:
        """Busy CPU per order (per request for the baseline), in ms."""
        return self.cpu_seconds * 1000 / (self.orders or self.requests)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def ops(self) -> float:
        return self.orders / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _busy_cpu_seconds() -> float:
    """The machine's busy CPU time so far, every core (Linux /proc/stat: user, nice,
    system, irq and softirq; not idle, I/O wait or time stolen by the hypervisor).
    The machine runs only the benchmark, so this is the CPU its requests cost: a
    ratio of it does not move with a neighbour's load the way a ratio of rates
    does."""
    with open("/proc/stat") as stat:
        fields = stat.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = map(int, fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_url() -> str:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return url
    except OSError:
        return ""  # the file cache of the demo


def _manage(env: dict, *args: str) -> str:
    out = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""


def _database(base: str, name: str, *, drop: bool = False) -> None:
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop:
            conn.execute(f'CREATE DATABASE "{name}"')


def _seed(env: dict) -> tuple[list[str], list[str]]:
    """The instrument and funded traders; returns buyer keys and seller keys."""
    _manage(env, "migrate", "--noinput", "-v", "0")
    _manage(env, "load_catalogue")
    start = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=2)
    _manage(
        env,
        "create_instrument",
        "--profile=train",
        f"--delivery-start={start.isoformat()}T00:00+08:00",
        f"--symbol={SYMBOL}",
        "--opening-price=10.00",
        "--price-band-pct=none",
    )
    keys: dict[str, list[str]] = {"buyer": [], "seller": []}
    for role in keys:
        for i in range(TRADERS):
            keys[role].append(
                _manage(
                    env,
                    "create_participant",
                    f"bench-{role}-{i}",
                    f"--roles={role}",
                    "--deposit=1000000000",
                    "--region=CITY-SH",
                    "--token",
                )
            )
    return keys["buyer"], keys["seller"]


def _clusters(url: str, seller_keys: list[str]) -> dict[str, int]:
    out = {}
    body = {"name": "bench", "region": "CITY-SH", "chip": "nvidia-a100-80gb-sxm"}
    for key in seller_keys:
        response = httpx.post(
            f"{url}/api/v1/clusters/",
            json=body | {"count": 1_000_000},
            headers={"Authorization": f"Token {key}"},
        )
        response.raise_for_status()
        out[key] = response.json()["id"]
    return out


def _verify(env: dict, clusters: dict[str, int]) -> None:
    """An operator verifies the sellers' clusters: only a verified cluster sells."""
    _manage(
        env,
        "createsuperuser",
        "--username=bench-operator",
        "--email=operator@bench.invalid",
        "--noinput",
    )
    ids = [str(pk) for pk in clusters.values()]
    _manage(env, "verify_cluster", *ids, "--operator=bench-operator")


def _order(rng: random.Random, crossing_share: float, keys, clusters) -> tuple:
    """(key, body) of one order by a random trader."""
    side = rng.choice(["buy", "sell"])
    key = rng.choice(keys[0] if side == "buy" else keys[1])
    return key, _body(rng, crossing_share, side, clusters.get(key))


def _body(rng: random.Random, crossing_share: float, side: str, cluster) -> dict:
    """An order resting around 10.00, or crossing the spread."""
    crossing = rng.random() < crossing_share
    offset = rng.randint(1, 40)
    if side == "buy":
        cents = 1000 + 50 + offset if crossing else 1000 - offset
    else:
        cents = 1000 - 50 - offset if crossing else 1000 + 50 + offset
    body = {"instrument": SYMBOL, "side": side, "price": f"{cents / 100:.2f}"}
    body["quantity"] = f"{rng.randint(1, 5)}.0"
    if side == "sell":
        body["cluster"] = cluster
    return body


async def _load(url: str, calls: list[tuple[str, str, dict]], concurrency: int):
    """Send every (path, key, body) with `concurrency` connections; latencies."""
    queue: asyncio.Queue = asyncio.Queue()
    for call in calls:
        queue.put_nowait(call)
    latencies: list[float] = []
    failures: list[str] = []

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            path, key, body = queue.get_nowait()
            began = time.perf_counter()
            response = await client.post(
                path, json=body, headers={"Authorization": f"Token {key}"}
            )
            latencies.append(time.perf_counter() - began)
            if response.status_code >= 300:
                failures.append(f"{response.status_code} {response.text[:200]}")

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        began = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        seconds = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed, e.g. {failures[0]}")
    return seconds, latencies


def _scenarios(args, keys, clusters) -> dict[str, tuple[list, int]]:
    rng = random.Random(42)
    n = args.requests
    everyone = keys[0] + keys[1]
    bench = [("/api/v1/_bench/", rng.choice(everyone), {}) for _ in range(n)]

    def singles(share: float):
        return [
            ("/api/v1/orders/", *_order(rng, share, keys, clusters)) for _ in range(n)
        ]

    def batches(size: int):
        # As many orders as the other scenarios send, but at least BATCHES_PER_LINK
        # batches per connection in every round: 30 batches of 100 in 4 rounds kept
        # only 7 or 8 of the 16 connections busy, and a round was one wave of
        # batches (all parsed, then all placed, then all answered), not a steady
        # state.
        count = max(n // size, BATCHES_PER_LINK * args.concurrency * args.rounds)
        out = []
        for i in range(count):
            side = "buy" if i % 2 == 0 else "sell"  # a batch holds one trader's orders
            key = rng.choice(keys[0] if side == "buy" else keys[1])
            orders = [_body(rng, 0.3, side, clusters.get(key)) for _ in range(size)]
            out.append(("/api/v1/orders/batch/", key, {"orders": orders}))
        return out

    return {
        "(a) baseline: bare DRF endpoint, one row": (bench, n),
        "(b) POST /orders/, resting limit orders": (singles(0.0), n),
        "(c) POST /orders/, 30% crossing": (singles(0.3), n),
        f"(d) POST /orders/batch/, {args.batch} orders, 30% crossing": (
            small := batches(args.batch),
            len(small) * args.batch,
        ),
        "(d) POST /orders/batch/, 100 orders (the most), 30% crossing": (
            large := batches(100),
            len(large) * 100,
        ),
    }


def _report(results: list[Result], args) -> None:
    base = results[0]
    print(
        "\n| scenario | requests | req/s | orders/s | p50 ms | p99 ms | ratio "
        "| CPU ms | CPU ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        orders = "" if r is base else f"{r.ops:,.0f}"
        rate = r.rps if r is base else r.ops
        print(
            f"| {r.name} | {r.requests} | {r.rps:,.0f} | {orders} | "
            f"{r.percentile(0.5):.1f} | {r.percentile(0.99):.1f} | "
            f"{rate / base.rps:.2f} | {r.cpu_ms:.2f} | {base.cpu_ms / r.cpu_ms:.2f} |"
        )
    print(
        f"\n{os.cpu_count()} cores; gunicorn 2 workers x {args.threads} threads; "
        f"{args.concurrency} concurrent connections; one instrument; scenarios in "
        f"{args.rounds} interleaved rounds. Ratio: orders/s (requests/s for the "
        "baseline) over the baseline's requests/s. CPU ms: the machine's busy CPU "
        "(server, database and load generator) per order (per request for the "
        "baseline); CPU ratio: the baseline's over the scenario's, the ratio the "
        "rates would have on a machine with nothing else running."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="per scenario")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch", type=int, default=20, help="orders per batch")
    parser.add_argument("--rounds", type=int, default=4, help="turns per scenario")
    parser.add_argument("--threads", type=int, default=8, help="per gunicorn worker")
    parser.add_argument("--base", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    name, port = f"yiwang_bench_api_{os.getpid()}", _free_port()
    url = f"http://127.0.0.1:{port}"
    redis = _redis_url()
    env = os.environ | {
        "DATABASE_URL": f"{args.base}/{name}",
        "REDIS_URL": redis,
        # Fills queue a candle fold after commit: on Redis, as in production (the
        # demo's filesystem transport needs `make run`'s directories). No worker
        # runs; the queue is dropped at the end.
        "CELERY_BROKER_URL": redis.rsplit("/", 1)[0] + "/14" if redis else "memory://",
        "DJANGO_SECRET_KEY": "bench-only",
        "DJANGO_DEBUG": "false",
        "DJANGO_HTTPS": "false",  # plain http on loopback
        "EXCHANGE_API_BENCHMARK": "true",
        "EXCHANGE_API_THROTTLE_RATE": "1000000/s",
        "LOG_LEVEL": "WARNING",
    }
    _database(args.base, name)
    server = None
    try:
        keys = _seed(env)
        server = subprocess.Popen(
            [
                GUNICORN,
                "config.wsgi",
                *("-c", "config/gunicorn.py"),  # the workers' GC tuning, as in prod
                "--bind",
                f"127.0.0.1:{port}",
                *("--workers", "2", "--threads", str(args.threads)),
                *("--log-level", "warning"),
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        for _ in range(60):
            try:
                if httpx.get(f"{url}/api/v1/regions/").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        clusters = _clusters(url, keys[1])
        _verify(env, clusters)
        scenarios = _scenarios(args, keys, clusters)
        results = [
            Result(label, len(calls), orders, 0.0, [])
            for label, (calls, orders) in scenarios.items()
        ]
        # Scenarios take turns, a slice of each per round: the machines are shared,
        # and a neighbour's burst then falls on all of them alike.
        for r in range(args.rounds):
            for result, (calls, _orders) in zip(
                results, scenarios.values(), strict=True
            ):
                part = calls[r :: args.rounds]
                cpu = _busy_cpu_seconds()
                seconds, latencies = asyncio.run(_load(url, part, args.concurrency))
                result.cpu_seconds += _busy_cpu_seconds() - cpu
                result.seconds += seconds
                result.latencies += latencies
        for result in results:
            print(f"{result.name}: {result.rps:,.0f} req/s", file=sys.stderr)
        _report(results, args)
        print(
            f"median of all order latencies: "
            f"{statistics.median(results[2].latencies) * 1000:.1f} ms",
            file=sys.stderr,
        )
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        _database(args.base, name, drop=True)
        if redis:
            import redis as redis_client

            redis_client.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()


if __name__ == "__main__":
    main()
