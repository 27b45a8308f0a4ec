"""ASGI entry point: the streams process (Server-Sent Events), served by uvicorn:

    uvicorn config.asgi:application --port 8001 --timeout-graceful-shutdown 3

It serves the whole Django application, but is deployed for the streams alone:
everything else runs under gunicorn (config/wsgi.py); why, in docs/performance.md
("Streams: a process of their own"). On top of Django it answers the lifespan
protocol (stopping the poller at shutdown) and ends a cancelled stream quietly: a
dropped slow consumer (exchange/streams/hub.py), or one still open at shutdown.
"""

import asyncio
import logging
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()

from exchange.streams.hub import STREAMING, hub_stop  # noqa: E402  (needs settings)

INCOMPLETE = "ASGI callable returned without completing response."


class _DroppedStreams(logging.Filter):
    """uvicorn reports a response that ended unfinished; ours are dropped streams
    (Django finishes every other response), already logged by the hub."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != INCOMPLETE


logging.getLogger("uvicorn.error").addFilter(_DroppedStreams())


async def application(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    try:
        await django_application(scope, receive, send)
    except asyncio.CancelledError:
        if not scope.get(STREAMING):
            raise
        # A stream ends by being cancelled: the hub drops a client that does not
        # read, and uvicorn cancels what is still open when it shuts down.
        asyncio.current_task().uncancel()


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            hub_stop()
            await send({"type": "lifespan.shutdown.complete"})
            return
