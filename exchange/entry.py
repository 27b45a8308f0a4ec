"""Entry points' transactions: durable, retried on deadlock or serialization failure
(up to 3 attempts, with jitter), and never leaving a rolled-back change in a warm book.
"""

import logging
import random
import time
from collections.abc import Callable

from django.db import OperationalError, transaction

from exchange import books
from exchange.streams.pubsub import publish_on_commit

ATTEMPTS = 3
RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock detected, serialization failure
log = logging.getLogger(__name__)


def _retryable(exc: OperationalError) -> bool:
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    return sqlstate in RETRYABLE_SQLSTATES or "database is locked" in str(exc)


def run_durable[**P, R](fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Run `fn` in its own durable transaction, retrying transient conflicts."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction.atomic(durable=True):
                result = fn(*args, **kwargs)
                publish_on_commit(books.touched())  # wakes the streams after commit
        except OperationalError as exc:
            books.discard_touched()
            if attempt == ATTEMPTS or not _retryable(exc):
                raise
            log.warning("retrying %s after %s (attempt %d)", fn.__name__, exc, attempt)
            time.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311
        except BaseException:
            books.discard_touched()
            raise
        else:
            books.forget_touched()
            return result
    raise AssertionError("unreachable")
