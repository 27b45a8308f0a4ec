"""A real Celery worker on Redis, killed with SIGKILL in the middle of a settlement
batch and restarted: every due trade ends settled exactly once (one settlement and
one penalty entry each, and each party's money moved once), a disputed trade waits
for its operator, and every invariant holds.

The worker is a subprocess on this test's PostgreSQL database. Its batch settles one
trade per transaction with a pause between them, so the kill lands mid-batch; the
message is acknowledged late, so Redis redelivers it after the visibility timeout, and
the sweeper re-enqueues whatever is left either way.
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from exchange.reconcile import reconcile
from settlement.models import JournalEntry, Obligation
from settlement.services import delivery_dispute
from tests.factories import ParticipantFactory
from tests.settlement.helpers import balance, deposit, platform, trade

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

REDIS_DB = 12
TRADES = 24


def _redis_url() -> str:
    base = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    if not base.startswith("redis://"):
        base = "redis://127.0.0.1:6379/0"
    return base.rsplit("/", 1)[0] + f"/{REDIS_DB}"


def _database_url() -> str:
    d = connection.settings_dict
    host, port = d["HOST"] or "127.0.0.1", d["PORT"] or 5432
    return f"postgres://{d['USER']}@{host}:{port}/{d['NAME']}"


def _start_worker(log) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "worker-kill-test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": _redis_url(),
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "SETTLEMENT_BATCH_PAUSE_MS": "150",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--concurrency",
            "1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _settled() -> int:
    return Obligation.objects.filter(status=Obligation.Status.SETTLED).count()


def _wait(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _settlement_entries(trade_id: int) -> Counter:
    return Counter(
        JournalEntry.objects.filter(reference=f"trade:{trade_id}").values_list(
            "kind", flat=True
        )
    )


@pytest.mark.redis
def test_killed_worker_leaves_every_trade_settled_once(catalogue, tmp_path):
    """24 trades are due, none delivered; one more is disputed. Each due trade
    refunds the buyer its 100.10 CNY escrow and pays it the seller's 10.00 bond as
    the penalty, once, however the worker dies; the disputed trade keeps its escrow
    and bond (which also leaves the escrow room that a double settlement would
    draw on, so one would show here rather than be refused)."""
    redis.Redis.from_url(_redis_url()).flushdb()
    buyer, seller = ParticipantFactory(), ParticipantFactory()
    deposit(buyer, 1_000_000)
    deposit(seller, 100_000)
    start = timezone.now() - timedelta(days=3)  # confirm deadline already passed
    for i in range(1, TRADES + 2):
        with transaction.atomic():
            trade(
                buyer=buyer,
                seller=seller,
                trade_id=i,
                quantity="10.0",
                price="10.00",
                instrument="KILL-1",
                start=start,
            )
    disputed = TRADES + 1
    with transaction.atomic():
        delivery_dispute(
            participant=buyer, trade_id=disputed, now=start + timedelta(hours=1)
        )
    # What the parties have while every trade is open: 25 x 100.10 in escrow (10 x
    # 10.00 and the 10 bps fee), 25 x 10.00 of the seller's bond.
    buyer_before, seller_before = balance(buyer), balance(seller)
    client = Celery()

    def send(name, *args):
        # CELERY_BROKER_URL in the environment would win over Celery(broker=...).
        with client.connection_for_write(_redis_url()) as conn:
            client.send_task(name, args=list(args), connection=conn)

    log = (tmp_path / "worker.log").open("w")
    worker = _start_worker(log)
    try:
        send("settlement.tasks.trades_settle_batch", "KILL-1")
        _wait(lambda: _settled() >= 4, 90, "the batch to start")
        os.killpg(worker.pid, signal.SIGKILL)  # mid-batch: no chance to ack or clean up
        worker.wait(timeout=10)
        killed_at = _settled()
        assert 4 <= killed_at < TRADES, "the kill must land in the middle of the batch"
        worker = _start_worker(log)
        send("settlement.tasks.settlement_sweep")
        _wait(lambda: _settled() == TRADES, 120, "every trade to settle")
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        log.close()
    # A double settlement would post a second settle (or penalty) entry for its
    # trade under another key, and move the money twice.
    entries = {i: _settlement_entries(i) for i in range(1, TRADES + 2)}
    once = Counter({"settle": 1, "penalty": 1})
    assert {i: c for i, c in entries.items() if c != once} == {disputed: Counter()}
    assert balance(buyer) - buyer_before == TRADES * (Decimal("100.10") + 10)
    assert balance(seller) == seller_before
    assert balance(seller, "bond") == Decimal("10.00")  # the disputed trade's
    assert platform("escrow", "KILL-1") == Decimal("100.10")
    assert Obligation.objects.get(trade_id=disputed).status == "disputed"
    failures = [(n, f) for n, f in reconcile() if f]
    assert not failures, (failures, (tmp_path / "worker.log").read_text()[-3000:])
