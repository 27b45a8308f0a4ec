"""The chaos loop: at random every 10 to 30 s it SIGKILLs one of a gunicorn worker,
a Celery worker's pool process, a whole node (then restarts it) or the beat (then
restarts it); once per run it restarts PostgreSQL (immediate shutdown) and once
Redis (SIGKILL, started empty). A watchdog restarts any process that died without
being killed, and counts it: a surprise is a finding."""

import logging
import os
import random
import signal
import threading
import time
from dataclasses import dataclass

import httpx

from tests.soak.procs import Node, Postgres, Proc, Redis, children, wait_for

log = logging.getLogger("soak")
ROUTINE = ["gunicorn_worker", "celery_pool", "node", "beat"]


@dataclass
class Fault:
    at: float  # wall clock of the kill
    kind: str
    target: str  # node name, "all"
    detail: str
    recovered_s: float | None = None


class Chaos(threading.Thread):
    def __init__(self, *, nodes, beat, pg, redis, minutes, seed, stop) -> None:
        super().__init__(name="chaos", daemon=True)
        self.nodes: list[Node] = nodes
        self.beat: Proc = beat
        self.pg: Postgres = pg
        self.redis: Redis = redis
        self.rng = random.Random(seed)
        self.stop = stop
        self.faults: list[Fault] = []
        self.surprises: list[str] = []
        self.lock = threading.Lock()  # one fault or restart at a time
        # The two once-per-run restarts, at a third and two thirds of the run.
        begin = time.monotonic()
        self.special = {
            "postgres": begin + minutes * 60 / 3,
            "redis": begin + minutes * 60 * 2 / 3,
        }

    def run(self) -> None:
        while not self.stop.wait(self.rng.uniform(10, 30)):
            due = [k for k, at in self.special.items() if time.monotonic() >= at]
            kind = due[0] if due else self.rng.choice(ROUTINE)
            self.special.pop(kind, None)
            try:
                with self.lock:
                    fault = getattr(self, f"_{kind}")()
                self.faults.append(fault)
                log.info("fault: %s", fault)
                self.measure(fault)
            except Exception as exc:  # a fault that could not be done is reported
                self.surprises.append(f"chaos {kind} failed: {exc!r}")

    def measure(self, fault: Fault) -> None:
        """Recovery of the faults no web request shows (the report measures the
        others from the bots' requests): a new pool process; a heartbeat."""
        if fault.kind == "beat":
            fault.recovered_s = round(heartbeat_after(self.nodes, fault.at), 2)
        elif fault.kind == "celery_pool":
            node = next(n for n in self.nodes if n.name == fault.target)
            killed = int(fault.detail.split()[-1])
            wait_for(
                lambda: [p for p in children(node.worker.pid) if p != killed],
                "a new pool process",
            )
            fault.recovered_s = round(time.time() - fault.at, 2)

    def _node(self) -> Fault:
        node = self.rng.choice(self.nodes)
        at = time.time()
        node.kill()
        time.sleep(self.rng.uniform(1, 4))  # the host is down for a moment
        node.start()
        return Fault(at, "node", node.name, "gunicorn and Celery, masters included")

    def _gunicorn_worker(self) -> Fault:
        node = self.rng.choice(self.nodes)
        pid = self.rng.choice(children(node.web.pid))
        at = time.time()
        os.kill(pid, signal.SIGKILL)
        return Fault(at, "gunicorn_worker", node.name, f"pid {pid}")

    def _celery_pool(self) -> Fault:
        node = self.rng.choice(self.nodes)
        pid = self.rng.choice(children(node.worker.pid))
        at = time.time()
        os.kill(pid, signal.SIGKILL)
        return Fault(at, "celery_pool", node.name, f"pid {pid}")

    def _beat(self) -> Fault:
        at = time.time()
        self.beat.kill()
        time.sleep(1)
        self.beat.start()
        return Fault(at, "beat", "beat", f"pid {self.beat.pid} after restart")

    def _postgres(self) -> Fault:
        at = time.time()
        self.pg.crash_restart()
        return Fault(at, "postgres", "all", "immediate shutdown, crash recovery")

    def _redis(self) -> Fault:
        at = time.time()
        self.redis.restart()
        return Fault(at, "redis", "all", "SIGKILL, started empty")

    def watchdog(self) -> None:
        """Restart whatever died unasked (run between faults, under the lock)."""
        with self.lock:
            procs = [p for n in self.nodes for p in (n.web, n.worker)] + [self.beat]
            for proc in procs:
                if not proc.alive():
                    code = proc.popen.returncode if proc.popen else None
                    self.surprises.append(f"{proc.name} exited by itself ({code})")
                    proc.kill()
                    proc.start()


def heartbeat_after(nodes: list[Node], moment: float, timeout: float = 120) -> float:
    """Seconds from `moment` until a heartbeat task ran after it (beat scheduled
    it, a worker ran it), read from any node's /healthz."""
    found: list[float] = []

    def fresh() -> bool:
        for node in nodes:
            try:
                body = httpx.get(f"{node.url}/healthz", timeout=2).json()
            except (httpx.HTTPError, ValueError):
                continue
            age = body.get("heartbeat_age_s")
            if age is not None and time.time() - age > moment:
                found.append(time.time() - age - moment)
                return True
        return False

    wait_for(fresh, "a heartbeat after the fault", timeout=timeout, every=0.5)
    return found[-1]
