"""Redis pub/sub for the streams: a wake-up after a commit, never the record.

An entry point that moved books publishes their instrument ids once its transaction
has committed; each streams process's listener wakes its poller, which reads the
rows from the event log. A lost message only delays that read until the next
safety poll. Pub/sub channels span Redis's numbered databases, so the channel is
named after the database (`EXCHANGE_STREAMS_CHANNEL` overrides it).
"""

import logging
import threading
import time
from functools import partial

from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)
_client = None
_client_lock = threading.Lock()


def channel() -> str:
    name = settings.DATABASES["default"]["NAME"]
    return settings.EXCHANGE_STREAMS_CHANNEL or f"yiwang:streams:{name}"


def publish_on_commit(instrument_ids) -> None:
    """Inside an entry point's transaction: once it commits, wake the streams of
    these instruments. Nothing without Redis (the streams poll the log)."""
    if not settings.REDIS_URL or not instrument_ids:
        return
    message = ",".join(str(pk) for pk in sorted(instrument_ids))
    transaction.on_commit(partial(_publish, message), robust=True)


def _publish(message: str) -> None:
    import redis

    try:
        _redis().publish(channel(), message)
    except redis.RedisError as exc:  # the safety poll reads it a little later
        log.warning("streams: could not publish a commit: %s", exc)


def _redis():
    global _client
    with _client_lock:
        if _client is None:
            import redis

            _client = redis.Redis.from_url(
                settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
            )
        return _client


class Listener(threading.Thread):
    """Wakes the poller on every published commit; `healthy` while subscribed."""

    def __init__(self, wake: threading.Event) -> None:
        super().__init__(name="streams-listener", daemon=True)
        self.wake = wake
        self.healthy = False
        self.stopping = False

    def stop(self) -> None:
        self.stopping = True

    def run(self) -> None:
        import redis

        while not self.stopping:
            try:
                self._listen(redis.Redis.from_url(settings.REDIS_URL))
            except redis.RedisError as exc:
                log.warning("streams: Redis pub/sub lost (%s); polling meanwhile", exc)
            self.healthy = False
            self.wake.set()  # poll at once: messages may have been missed
            time.sleep(1)

    def _listen(self, client) -> None:
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(channel())
        self.healthy = True
        try:
            while not self.stopping:
                if pubsub.get_message(timeout=1.0) is not None:
                    self.wake.set()
        finally:
            pubsub.close()
