"""The soak's processes: its own PostgreSQL and Redis on private ports, two app nodes
(a gunicorn and a Celery worker each, as two hosts would run them) and one beat.

Every process starts in a session (process group) of its own, so a fault or the
cleanup takes it down whole; `Fleet.stop_all` ends every group the soak started.
The machine's shared servers (5432, 6379) are never touched.
"""

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

log = logging.getLogger("soak")
ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
INITDB = "-U postgres --auth=trust -E UTF8 --no-instructions"
WORKER = (
    "--concurrency 1 -P prefork --without-gossip --without-mingle --loglevel WARNING"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    """The live child processes of `pid` (from /proc, no dependency)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: split after it.
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(entry.name))
    return out


@dataclass
class Proc:
    """One process group: started, killed whole, restarted with the same command."""

    name: str
    argv: list[str]
    env: dict[str, str]
    logs: Path
    user: str | None = None
    popen: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> None:
        handle = (self.logs / f"{self.name}.log").open("ab")
        self.popen = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=self.user,
            group=self.user,
            extra_groups=[] if self.user else None,
        )
        handle.close()

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def kill(self, sig: int = signal.SIGKILL, wait: float = 15) -> None:
        """Signal the whole group and reap the leader."""
        self.signal_group(sig)
        if self.popen is not None:
            try:
                self.popen.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                self.signal_group(signal.SIGKILL)
                self.popen.wait(timeout=10)
        if sig != signal.SIGKILL:
            self.signal_group(signal.SIGKILL)  # whatever the leader left behind


def wait_for(check, what: str, timeout: float = 60, every: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, httpx.HTTPError, subprocess.SubprocessError):
            pass
        time.sleep(every)
    raise TimeoutError(f"{what} did not come up in {timeout:.0f} s")


class Postgres:
    """A private PostgreSQL 15 cluster under var/soak/pg, run as the `postgres` OS
    user (initdb and postgres refuse root), TCP only on its own port."""

    def __init__(self, base: Path, logs: Path) -> None:
        self.data, self.port = base / "pg", free_port()
        self.proc = Proc(
            "postgres",
            [
                str(PG_BIN / "postgres"),
                *("-D", str(self.data), "-p", str(self.port)),
                *("-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="),
                *("-c", "max_connections=200", "-c", "shared_buffers=128MB"),
            ],
            env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8"},
            logs=logs,
            user="postgres",
        )

    def init(self) -> None:
        shutil.rmtree(self.data, ignore_errors=True)
        self.data.mkdir(parents=True)
        shutil.chown(self.data, "postgres", "postgres")
        subprocess.run(
            [str(PG_BIN / "initdb"), "-D", str(self.data), *INITDB.split()],
            user="postgres",
            group="postgres",
            extra_groups=[],
            check=True,
            capture_output=True,
        )

    def url(self, db: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def ready(self) -> bool:
        argv = [str(PG_BIN / "pg_isready"), *self.client_args()]
        return subprocess.run(argv, capture_output=True, check=False).returncode == 0

    def client_args(self) -> list[str]:
        return f"-h 127.0.0.1 -p {self.port} -U postgres".split()

    def start(self) -> None:
        self.proc.start()
        wait_for(self.ready, "PostgreSQL", timeout=60)

    def createdb(self, name: str) -> None:
        argv = [str(PG_BIN / "createdb"), *self.client_args(), name]
        subprocess.run(argv, check=True)

    def crash_restart(self) -> None:
        """Immediate shutdown (SIGQUIT: no checkpoint, crash recovery at start, as
        after a power cut), then start again."""
        self.proc.kill(signal.SIGQUIT, wait=30)
        self.start()


class Redis:
    def __init__(self, logs: Path) -> None:
        self.port = free_port()
        self.proc = Proc(
            "redis",
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--save",
                "",
                *["--bind", "127.0.0.1", "--appendonly", "no", "--daemonize", "no"],
            ],
            env={"PATH": os.environ["PATH"]},
            logs=logs,
        )

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def ready(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    def start(self) -> None:
        self.proc.start()
        wait_for(self.ready, "Redis", timeout=30)

    def restart(self) -> None:
        """SIGKILL and start empty (no persistence): queued messages, throttle
        counters and the heartbeat are lost, as on a crashed cache host."""
        self.proc.kill()
        self.start()


@dataclass
class Node:
    """One app host: gunicorn (2 workers) and a Celery worker (1 pool process)."""

    name: str
    port: int
    web: Proc
    worker: Proc

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.web.start()
        self.worker.start()

    def kill(self) -> None:
        self.web.kill()
        self.worker.kill()

    def answers(self) -> bool:
        return httpx.get(f"{self.url}/api/v1/regions/?limit=1", timeout=2).is_success


def node_build(name: str, env: dict[str, str], logs: Path, threads: int) -> Node:
    port = free_port()
    config = (
        ["-c", "config/gunicorn.py"] if (ROOT / "config/gunicorn.py").exists() else []
    )
    gunicorn = f"--workers 2 --threads {threads} --timeout 30 --graceful-timeout 5"
    web = Proc(
        f"web-{name}",
        [
            str(BIN / "gunicorn"),
            "config.wsgi",
            *config,
            *gunicorn.split(),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=env,
        logs=logs,
    )
    worker = Proc(
        f"worker-{name}",
        [
            str(BIN / "celery"),
            *["-A", "config", "worker", "-Q"],
            f"celery,soak-{name}",
            "-n",
            f"soak-{name}@%h",
            *WORKER.split(),
        ],
        env=env,
        logs=logs,
    )
    return Node(name, port, web, worker)


def beat_build(env: dict[str, str], logs: Path, run: Path) -> Proc:
    schedule = str(run / "celerybeat-schedule")
    return Proc(
        "beat",
        [
            str(BIN / "celery"),
            *["-A", "config", "beat", "--loglevel", "WARNING", "--schedule"],
            schedule,
        ],
        env=env,
        logs=logs,
    )


class Fleet:
    """Everything the soak started, so that one call ends it all."""

    def __init__(self) -> None:
        self.procs: list[Proc] = []

    def add(self, *procs: Proc) -> None:
        self.procs.extend(procs)

    def stop_all(self) -> None:
        # The app first (it holds connections), the servers last.
        for proc in sorted(self.procs, key=lambda p: p.name in ("postgres", "redis")):
            if proc.alive():
                # postgres: SIGINT is its fast shutdown (SIGTERM waits for clients).
                proc.kill(signal.SIGINT if proc.user else signal.SIGTERM, wait=10)
            else:
                proc.signal_group(signal.SIGKILL)
