"""Threads for concurrency tests: each with its own database connection."""

import threading
import time

from django.db import close_old_connections


def threads_together(n: int, target, *, timeout: float = 120) -> list:
    """Run target(i) for i < n in n threads released at once; each one's result, or
    the exception it raised. A thread still running after `timeout` seconds (all
    threads together) fails the test: a hang is a bug, not a result."""
    start = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        try:
            start.wait(timeout=timeout)
            results[i] = target(i)
        except Exception as exc:  # returned to the caller
            results[i] = exc
        finally:
            close_old_connections()

    # Daemons, so a hung thread cannot keep the test run from exiting.
    threads = [
        threading.Thread(target=run, args=(i,), name=f"together-{i}", daemon=True)
        for i in range(n)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    hung = [t.name for t in threads if t.is_alive()]
    if hung:
        raise AssertionError(f"threads did not finish within {timeout} s: {hung}")
    return results
