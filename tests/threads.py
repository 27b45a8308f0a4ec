"""Threads for concurrency tests: each with its own database connection."""

import threading

from django.db import close_old_connections


def threads_together(n: int, target, *, timeout: float = 120) -> list:
    """Run target(i) for i < n in n threads released at once; each one's result, or
    the exception it raised."""
    start = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        start.wait()
        try:
            results[i] = target(i)
        except Exception as exc:  # returned to the caller
            results[i] = exc
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    return results
