"""A real streams process for tests: uvicorn serving config.asgi on a free port,
against the test database, and an SSE client that reads it in a thread."""

import json
import os
import signal
import socket
import subprocess
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]
UVICORN = str(ROOT / ".venv" / "bin" / "uvicorn")


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def streams_server(*, redis: bool, send_buffer: int = 0, **settings_env: str):
    """uvicorn on the test database (PostgreSQL: the test commits, the server
    reads); with `redis`, woken by the test process's commits over pub/sub, else
    polling the log. `send_buffer` fixes the kernel's send buffer of its sockets
    (else it grows to megabytes on loopback before a writer ever waits). Killed
    with its process group, whatever happens."""
    listener = socket.socket()
    if send_buffer:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env |= {
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "EXCHANGE_STREAMS_HEARTBEAT_SECONDS": "0.3",
        "LOG_LEVEL": "WARNING",
        **settings_env,
    }
    if redis:
        env["REDIS_URL"] = settings.REDIS_URL
    server = subprocess.Popen(
        [
            UVICORN,
            "config.asgi:application",
            "--fd",
            str(listener.fileno()),
            "--timeout-graceful-shutdown",
            "1",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        pass_fds=[listener.fileno()],
        start_new_session=True,
    )
    listener.close()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, server)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _wait_for(url: str, server: subprocess.Popen) -> None:
    for _ in range(150):
        if server.poll() is not None:
            raise RuntimeError(f"the streams server exited with {server.returncode}")
        try:
            httpx.get(f"{url}/api/v1/regions/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the streams server did not answer")


class SseClient(threading.Thread):
    """Reads one stream into `events` [(id, event, data)] until `stop()`; the
    server's heartbeat (0.3 s in tests) lets it notice the stop promptly."""

    def __init__(self, url: str, headers=None, *, receive_buffer: int = 0) -> None:
        super().__init__(daemon=True)
        self.url, self.headers = url, headers or {}
        self.socket_options = (
            [(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)]
            if receive_buffer
            else None
        )
        self.events: list[tuple[str | None, str | None, dict | None]] = []
        self.pings: list[float] = []  # when each `: ping` comment came
        self.last_id: str | None = None
        self.status: int | None = None
        self.ended = threading.Event()  # the server closed the stream
        self._stopping = threading.Event()

    def run(self) -> None:
        transport = httpx.HTTPTransport(socket_options=self.socket_options)
        http = httpx.Client(transport=transport, timeout=httpx.Timeout(10))
        with http, suppress(httpx.RemoteProtocolError):  # closed mid-body: dropped
            self._read(http)
        self.ended.set()

    def _read(self, http: httpx.Client) -> None:
        with http.stream("GET", self.url, headers=self.headers) as response:
            self.status = response.status_code
            fields: dict[str, str] = {}
            for line in response.iter_lines():
                if self._stopping.is_set():
                    return
                if line.startswith(":"):
                    self.pings.append(time.monotonic())
                    continue
                if line:
                    name, _, value = line.partition(": ")
                    fields[name] = value
                    continue
                self._dispatch(fields)
                fields = {}

    def _dispatch(self, fields: dict) -> None:
        if "id" in fields:
            self.last_id = fields["id"]
        if "event" in fields:
            data = json.loads(fields["data"])
            self.events.append((fields.get("id"), fields["event"], data))

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=5)

    def of(self, name: str) -> list[dict]:
        return [data for _id, event, data in self.events if event == name]

    def wait_for(self, predicate, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            assert time.monotonic() < deadline, f"timed out; got {self.events[-3:]}"
            time.sleep(0.02)
