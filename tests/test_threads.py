"""The thread helper of the concurrency tests: results and exceptions come back per
thread, and a thread that hangs fails the test instead of being ignored."""

import threading

import pytest

from tests.threads import threads_together


def test_threads_together_returns_each_result_or_exception_in_thread_order():
    """Thread i's return value, or the exception it raised, is at index i."""

    def target(i):
        if i == 1:
            raise ValueError("refused")
        return i * 10

    first, second, third = threads_together(3, target, timeout=10)
    assert (first, third) == (0, 20)
    assert isinstance(second, ValueError)


def test_threads_together_fails_when_a_thread_hangs():
    """A thread still running at the timeout is an AssertionError naming it."""
    release = threading.Event()

    def target(i):
        if i == 1:
            release.wait(timeout=30)  # hangs until the test lets it go
        return i

    try:
        with pytest.raises(AssertionError, match=r"did not finish .*together-1"):
            threads_together(2, target, timeout=0.5)
    finally:
        release.set()
