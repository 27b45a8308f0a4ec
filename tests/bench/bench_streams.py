"""Streams against polling: what 200 viewers of one instrument cost the server.

    python -m tests.bench.bench_streams [--clients 200] [--seconds 20] [--rate 10]

A throw-away PostgreSQL database; the streams process (uvicorn, config/asgi.py)
and the web server (gunicorn as in the Procfile) run side by side, Redis pub/sub
when Redis answers. A placer process (Django, the services, no HTTP) sends `--rate`
orders a second around 10.00, two in five crossing, and notes the time each one's
transaction committed (an on-commit callback). In each round the two scenarios
take turns with the same order flow, the first of them alternating:

  (s) streaming: `--clients` connections on loopback read the market stream; for
      every trade each of them receives, latency = received - committed;
  (p) polling: as many viewers each GET the book and the trades every 2 s.

The server's CPU of each scenario is its processes' (the streams process, or
gunicorn's master and workers) plus their PostgreSQL backends' (by
application_name), from /proc; the clients', the placer's and Redis's are not
counted. Reported: p50 and p99 latency, CPU per delivered event, and streaming's
CPU over polling's for the same viewers and time (target: at most 0.2), polling's
both as served and as asked (its CPU per answered request times the requests the
viewers ask for: a busy machine answers fewer, which flatters polling).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
SYMBOL = "BENCH-STREAMS"
POLL_SECONDS = 2.0
TRADE_ID = re.compile(rb'event: trade\ndata: \{"symbol":"[^"]*","seq":\d+,"id":(\d+)')
EVENT = b"\nevent: "


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_url() -> str:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
    except OSError:
        return ""


def _manage(env: dict, *args: str) -> None:
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise RuntimeError(f"manage.py {args[0]} failed ({done.returncode})")


def _database(base: str, name: str, *, drop: bool = False) -> None:
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop:
            conn.execute(f'CREATE DATABASE "{name}"')


# --- CPU from /proc -----------------------------------------------------------------
def _cpu_of(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return out


def _backends(dsn: str, app: str) -> list[int]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True, application_name="bench-probe") as c:
        rows = c.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (app,)
        ).fetchall()
    return [r[0] for r in rows]


class Cpu:
    """The CPU seconds of a server's processes and of its database backends."""

    def __init__(self, pid: int, dsn: str, app: str) -> None:
        self.pid, self.dsn, self.app = pid, dsn, app

    def sample(self) -> dict[int, float]:
        pids = [self.pid, *_children(self.pid), *_backends(self.dsn, self.app)]
        return {p: _cpu_of(p) for p in pids}

    @staticmethod
    def spent(before: dict, after: dict) -> float:
        return sum(t - before.get(p, 0.0) for p, t in after.items())


# --- the two kinds of viewers ------------------------------------------------------
class StreamViewer:
    def __init__(self) -> None:
        self.events = 0
        self.trades: dict[int, float] = {}
        self.ready = asyncio.Event()
        self.ended = False  # the server closed the stream (it dropped the viewer)

    async def run(self, host: str, port: int, path: str, stop: asyncio.Event) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        tail = b""
        while not stop.is_set():
            try:
                chunk = await asyncio.wait_for(reader.read(65536), 0.5)
            except TimeoutError:
                continue
            if not chunk:
                self.ended = True
                break
            now = time.time()
            text = tail + chunk  # a frame cut between two reads is matched whole
            self.events += text.count(EVENT) - tail.count(EVENT)
            for match in TRADE_ID.finditer(text):
                self.trades.setdefault(int(match[1]), now)
            tail = text[-200:]
            self.ready.set()
        writer.close()


async def _poll(url: str, stop: asyncio.Event, offset: float, counts: list) -> None:
    """One viewer: the book and the trades every 2 s; counts[0] the answers (200),
    counts[1] the others, counts[2] each answer's time."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        await asyncio.sleep(offset)
        while not stop.is_set():
            started = time.monotonic()
            for path in (
                f"/api/v1/instruments/{SYMBOL}/book/",
                f"/api/v1/instruments/{SYMBOL}/trades/?limit=50",
            ):
                response = await _get(client, path)
                if response is None:
                    counts[1] += 1
                    continue
                counts[0 if response.status_code == 200 else 1] += 1
                counts[2].append(response.elapsed.total_seconds())
            await asyncio.sleep(max(0.0, POLL_SECONDS - (time.monotonic() - started)))


async def _get(client: httpx.AsyncClient, path: str) -> httpx.Response | None:
    """A GET, once more on a connection the server closed as it was reused (its
    keep-alive ran out); None when it fails again."""
    for _attempt in range(2):
        try:
            return await client.get(path)
        except httpx.TransportError:
            continue
    return None


# --- the order flow (a process of its own: Django, the services) --------------------
def place_flow(rate: float, seconds: float, seed: int, out: str) -> None:
    """Place orders at `rate` a second; write {trade id: commit time} to `out`."""
    import django

    django.setup()
    from decimal import Decimal

    from django.utils import timezone

    from exchange.services.placement import order_place
    from exchange.services.requests import OrderRequest
    from market.models import ChipModel, Cluster, Participant, Region

    buyer = Participant.objects.get(user__username="bench-buyer")
    seller = Participant.objects.get(user__username="bench-seller")
    cluster = Cluster.objects.filter(participant=seller).first()
    if cluster is None:
        region = Region.objects.get(code="CITY-SH")
        chip = ChipModel.objects.get(code="nvidia-a100-80gb-sxm")
        cluster = Cluster.objects.create(
            participant=seller, name="bench", region=region, chip=chip, count=10**6
        )
    if hasattr(cluster, "verified_at"):  # sells need an operator's check
        Cluster.objects.filter(pk=cluster.pk).update(verified_at=timezone.now())
    stamps = _commit_stamps()
    rng, committed = random.Random(seed), {}
    start = time.monotonic()
    for i in range(int(rate * seconds)):
        time.sleep(max(0.0, start + i / rate - time.monotonic()))
        side, off, cross = rng.choice(("buy", "sell")), rng.randint(1, 20), rng.random()
        cents = (
            (1030 + off if cross < 0.4 else 1000 - off)
            if side == "buy"
            else (970 - off if cross < 0.4 else 1030 + off)
        )
        request = OrderRequest(
            instrument=SYMBOL,
            side=side,
            quantity=Decimal(rng.randint(1, 5)),
            price=Decimal(cents) / 100,
            cluster=cluster.pk if side == "sell" else None,
        )
        placed = order_place(
            participant=buyer if side == "buy" else seller, request=request
        )
        committed |= {trade.pk: stamps[-1] for trade in placed.fills}
    Path(out).write_text(json.dumps(committed))


def _commit_stamps() -> list[float]:
    """The wall-clock time each placement committed: an on-commit callback
    registered beside the streams' wake-up (`exchange.entry`), ahead of it."""
    from django.db import transaction

    from exchange import entry

    stamps: list[float] = []
    publish = entry.publish_on_commit

    def stamped(instrument_ids) -> None:
        transaction.on_commit(lambda: stamps.append(time.time()))
        publish(instrument_ids)

    entry.publish_on_commit = stamped
    return stamps


def _placer(env: dict, rate: float, seconds: float, seed: int) -> subprocess.Popen:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as file:
        out = file.name
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "tests.bench.bench_streams",
            "--place",
            out,
            f"--rate={rate}",
            f"--seconds={seconds}",
            f"--seed={seed}",
        ],
        cwd=ROOT,
        env=env | {"PGAPPNAME": "yiwang-bench-placer"},
    )
    process.out = out  # type: ignore[attr-defined]
    return process


# --- scenarios ------------------------------------------------------------------------
async def _streaming(args, port: int, cpu: Cpu, env: dict, seed: int) -> dict:
    stop = asyncio.Event()
    viewers = [StreamViewer() for _ in range(args.clients)]
    path = f"/api/v1/stream/market/?instruments={SYMBOL}"
    tasks = [asyncio.create_task(v.run("127.0.0.1", port, path, stop)) for v in viewers]
    await asyncio.gather(*(v.ready.wait() for v in viewers))
    before, started = cpu.sample(), time.monotonic()
    placer = _placer(env, args.rate, args.seconds, seed)
    await asyncio.to_thread(placer.wait)
    await asyncio.sleep(1.0)  # the last commits reach everyone
    spent, elapsed = Cpu.spent(before, cpu.sample()), time.monotonic() - started
    stop.set()
    await asyncio.gather(*tasks)
    committed = {int(k): t for k, t in json.loads(Path(placer.out).read_text()).items()}
    latencies = [
        v.trades[trade] - at
        for v in viewers
        for trade, at in committed.items()
        if trade in v.trades
    ]
    missing = len(committed) * len(viewers) - len(latencies)
    events = sum(v.events for v in viewers)
    return {
        "cpu": spent,
        "seconds": elapsed,
        "events": events,
        "trades": len(committed),
        "latencies": latencies,
        "missing": missing,
        "dropped": sum(v.ended for v in viewers),
    }


async def _polling(args, url: str, cpu: Cpu, env: dict, seed: int) -> dict:
    stop, counts = asyncio.Event(), [0, 0, []]
    offsets = [POLL_SECONDS * i / args.clients for i in range(args.clients)]
    tasks = [asyncio.create_task(_poll(url, stop, o, counts)) for o in offsets]
    await asyncio.sleep(POLL_SECONDS)
    before, started = cpu.sample(), time.monotonic()
    at_start = [counts[0], counts[1], len(counts[2])]
    placer = _placer(env, args.rate, args.seconds, seed)
    await asyncio.to_thread(placer.wait)
    await asyncio.sleep(1.0)
    spent, elapsed = Cpu.spent(before, cpu.sample()), time.monotonic() - started
    at_end = [counts[0], counts[1], len(counts[2])]
    stop.set()
    await asyncio.gather(*tasks)
    return {  # what was answered while the CPU was counted
        "cpu": spent,
        "seconds": elapsed,
        "requests": at_end[0] - at_start[0],
        "refused": at_end[1] - at_start[1],
        "answer_times": counts[2][at_start[2] : at_end[2]],
    }


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


def _report(args, streams: list[dict], polls: list[dict]) -> None:
    """Polling's cost is its CPU per answered request times the requests the
    viewers ask for (two every 2 s each): on a busy machine the server answers
    fewer than asked, and its measured CPU then understates what polling costs.
    Both ratios are printed; the measured one is an upper bound."""
    lat = sorted(x for s in streams for x in s["latencies"])
    s_cpu = sum(s["cpu"] for s in streams) / sum(s["seconds"] for s in streams)
    p_cpu = sum(p["cpu"] for p in polls) / sum(p["seconds"] for p in polls)
    events = sum(s["events"] for s in streams)
    requests = sum(p["requests"] for p in polls)
    answered = requests / sum(p["seconds"] for p in polls)
    asked = args.clients * 2 / POLL_SECONDS
    per_request = sum(p["cpu"] for p in polls) / max(requests, 1)
    print(
        f"\n{args.clients} viewers, {args.rate:g} orders/s for {args.seconds:g} s, "
        f"{len(streams)} rounds; {sum(s['trades'] for s in streams)} trades, "
        f"{events:,} events delivered, {sum(s['missing'] for s in streams)} "
        f"trade deliveries missed, {sum(s['dropped'] for s in streams)} viewers "
        f"dropped; polling answered {answered:.0f} requests/s of the {asked:.0f} "
        f"asked, {sum(p['refused'] for p in polls)} refused or failed\n"
    )
    print(
        "| round | streaming (cores) | polling as served (cores) | ratio "
        "| polling as asked (cores) | ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for r, (st, po) in enumerate(zip(streams, polls, strict=True), 1):
        a, b = st["cpu"] / st["seconds"], po["cpu"] / po["seconds"]
        c = po["cpu"] / max(po["requests"], 1) * asked
        print(f"| {r} | {a:.3f} | {b:.3f} | {a / b:.3f} | {c:.3f} | {a / c:.3f} |")
    print()
    print("| scenario | server CPU (cores) | per delivered item | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|")
    per_event = sum(s["cpu"] for s in streams) / max(events, 1) * 1e6
    p50, p99 = _quantile(lat, 0.5) * 1000, _quantile(lat, 0.99) * 1000
    print(
        f"| (s) streaming, commit to client | {s_cpu:.3f} | {per_event:.1f} µs "
        f"per event | {p50:.1f} | {p99:.1f} |"
    )
    answers = sorted(x for p in polls for x in p["answer_times"])
    a50, a99 = _quantile(answers, 0.5) * 1000, _quantile(answers, 0.99) * 1000
    print(
        f"| (p) polling every {POLL_SECONDS:g} s, answer time | {p_cpu:.3f} | "
        f"{per_request * 1000:.2f} ms per request | {a50:.1f} | {a99:.1f} |"
    )
    as_asked = per_request * asked
    print(
        f"\nstreaming / polling CPU: {s_cpu / as_asked:.3f} with polling as asked "
        f"({as_asked:.3f} cores), {s_cpu / p_cpu:.3f} as served (target: at most 0.2)"
    )


def _start(command: list[str], env: dict, app: str) -> subprocess.Popen:
    return subprocess.Popen(
        command, cwd=ROOT, env=env | {"PGAPPNAME": app}, start_new_session=True
    )


def _wait(url: str) -> None:
    for _ in range(120):
        try:
            httpx.get(f"{url}/api/v1/regions/", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer")


def _seed(env: dict) -> None:
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
    for role in ("buyer", "seller"):
        _manage(
            env,
            "create_participant",
            f"bench-{role}",
            f"--roles={role}",
            "--deposit=1000000000",
            "--region=CITY-SH",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=10, help="orders per second")
    parser.add_argument("--rounds", type=int, default=2, help="turns per scenario")
    parser.add_argument("--base", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--place", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.place:
        place_flow(args.rate, args.seconds, args.seed, args.place)
        return
    name = f"yiwang_bench_streams_{os.getpid()}"
    redis, web_port, streams_port = _redis_url(), _free_port(), _free_port()
    dsn = f"{args.base}/{name}"
    env = os.environ | {
        "DATABASE_URL": dsn,
        "REDIS_URL": redis,
        "CELERY_BROKER_URL": redis.rsplit("/", 1)[0] + "/14" if redis else "memory://",
        "DJANGO_SECRET_KEY": "bench-only",
        "DJANGO_DEBUG": "false",
        "DJANGO_HTTPS": "false",  # plain http on loopback
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "EXCHANGE_API_THROTTLE_RATE": "1000000/s",
        "EXCHANGE_STREAMS_PER_PARTICIPANT": str(args.clients + 10),
        "EXCHANGE_STREAMS_CHANNEL": f"yiwang:bench:{name}",
        "LOG_LEVEL": "WARNING",
    }
    _database(args.base, name)
    servers = []
    try:
        _seed(env)
        servers.append(
            _start(
                [
                    PYTHON,
                    "-m",
                    "uvicorn",
                    "config.asgi:application",
                    f"--port={streams_port}",
                    "--log-level=warning",
                    "--no-access-log",
                ],
                env,
                "yiwang-bench-streams",
            )
        )
        servers.append(
            _start(
                [
                    str(ROOT / ".venv" / "bin" / "gunicorn"),
                    "config.wsgi",
                    "-c",
                    "config/gunicorn.py",
                    "--bind",
                    f"127.0.0.1:{web_port}",
                    "--workers",
                    "2",
                    "--threads",
                    "8",
                    "--log-level",
                    "warning",
                ],
                env,
                "yiwang-bench-web",
            )
        )
        web = f"http://127.0.0.1:{web_port}"
        _wait(web), _wait(f"http://127.0.0.1:{streams_port}")
        streams_cpu = Cpu(servers[0].pid, dsn, "yiwang-bench-streams")
        web_cpu = Cpu(servers[1].pid, dsn, "yiwang-bench-web")
        streams, polls = [], []
        # Each round places the same flow for both; which goes first alternates.
        for r in range(args.rounds):
            for kind in ("s", "p") if r % 2 == 0 else ("p", "s"):
                if kind == "s":
                    run = _streaming(args, streams_port, streams_cpu, env, r)
                    streams.append(asyncio.run(run))
                else:
                    polls.append(asyncio.run(_polling(args, web, web_cpu, env, r)))
            print(
                f"round {r + 1}: streaming {streams[-1]['cpu']:.2f} s CPU, "
                f"polling {polls[-1]['cpu']:.2f} s CPU",
                file=sys.stderr,
            )
        _report(args, streams, polls)
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        _database(args.base, name, drop=True)


if __name__ == "__main__":
    main()
