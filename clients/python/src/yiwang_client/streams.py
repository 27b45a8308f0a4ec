"""The market and private streams (Server-Sent Events) as iterators of `Event`s
that reconnect by themselves.

The server numbers each event with the stream's whole position (`id:`); after a
dropped connection (a network error, a restart, a server that dropped a slow
reader) the iterator connects again with that position as `Last-Event-ID`, and the
server sends every event after it: no gap, no duplicate. Errors that say the
request itself is wrong (400, 401, 403, 404) end the iteration with the exception;
429 and 5xx are tried again with backoff. A 307 to the streams process is followed
with the same headers (the key included: the API itself names that address).
"""

import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import httpx

from yiwang_client.calls import Retry
from yiwang_client.errors import ConnectionFailed, ServerError, Throttled, error_from

log = logging.getLogger("yiwang_client.streams")
DROPPED = (httpx.TransportError, httpx.StreamError)
# The server sends `: ping` at least every 15 s: silence this long is a dead link.
READ_TIMEOUT = 45.0
MAX_REDIRECTS = 5


@dataclass(frozen=True, slots=True)
class Event:
    """One event: `event` its name (`book`, `trade`, `level`, `state`, `region`;
    `order`, `fill`, `delivery`, `settlement`, `reset`), `data` its JSON body (decimals
    left as the strings the API sends), `id` the stream's position after it."""

    event: str
    data: Any
    id: str | None = None


@dataclass(slots=True)
class SseParser:
    """Lines of `text/event-stream` in, events out (the WHATWG rules: a blank line
    ends an event, `:` starts a comment, `id:` sets the position even for an event
    with no data, `retry:` the reconnection delay)."""

    last_id: str | None = None
    retry_ms: int | None = None
    _event: str = ""
    _data: list[str] = field(default_factory=list)

    def feed(self, line: str) -> Event | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\x00" not in value:
            self.last_id = value
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None

    def discard(self) -> None:
        """Forget an event cut short by a dropped connection."""
        self._event, self._data = "", []

    def _dispatch(self) -> Event | None:
        event, data = self._event or "message", self._data
        self._event, self._data = "", []
        if not data:
            return None
        text = "\n".join(data)
        try:
            body = json.loads(text)
        except ValueError:
            body = text
        return Event(event, body, self.last_id)


class _Resumption:
    """One stream's state across its connections: where it is, where the server
    lives, and how long to wait before the next connection."""

    def __init__(
        self,
        url: str,
        headers: dict[str, str],
        last_event_id: str | None,
        retry: Retry,
    ) -> None:
        self.url, self.headers, self.retry = url, headers, retry
        self.parser = SseParser(last_id=last_event_id)
        self.failures = 0
        self.connections = 0
        self.redirected = False
        self.redirects = 0  # in a row: a loop of them is an error

    def pause(self) -> float | None:
        """Seconds to wait before the next connection (None: at once)."""
        if self.redirected:
            self.redirected = False
            return None
        return self.delay()

    def request_headers(self) -> dict[str, str]:
        """A new connection's headers (its position); a new connection starts
        with no half-read event."""
        self.parser.discard()
        headers = self.headers | {"Accept": "text/event-stream"}
        if self.parser.last_id:
            headers["Last-Event-ID"] = self.parser.last_id
        return headers

    def opened(self, response: httpx.Response) -> bool:
        """True if the stream is open; False to connect again at once (a redirect);
        raises what the request cannot get past."""
        if response.status_code in (301, 302, 303, 307, 308):
            self.redirects += 1
            if self.redirects > MAX_REDIRECTS:
                raise error_from(response)
            self.url = urljoin(self.url, response.headers["Location"])
            self.redirected = True
            return False
        if response.status_code == 200:
            self.connections, self.redirects = self.connections + 1, 0
            return True
        error = error_from(response)  # the caller has read its body
        if not isinstance(error, Throttled | ServerError):
            raise error
        self.failures += 1
        if self.failures >= self.retry.attempts:
            raise error
        return False

    def delay(self) -> float:
        """Seconds before connecting again: the server's `retry:` after a clean
        end, backing off while connections fail."""
        base = (self.parser.retry_ms or 500) / 1000
        backoff = 2.0 ** min(max(self.failures - 1, 0), 5)
        return min(base * backoff, self.retry.max_delay)

    def dropped(self, exc: BaseException | None) -> None:
        where = self.parser.last_id
        log.info("stream %s ended (%s); resuming after %s", self.url, exc, where)


class EventStream(Iterator[Event]):
    """A stream for `for event in stream:`; `close()` (or `with`) ends it."""

    def __init__(
        self,
        http: httpx.Client,
        url: str,
        headers: dict[str, str],
        *,
        last_event_id: str | None,
        retry: Retry,
        sleep: Callable[[float], None],
    ) -> None:
        self._http, self._sleep = http, sleep
        self.state = _Resumption(url, headers, last_event_id, retry)
        self._events = self._run()

    @property
    def last_event_id(self) -> str | None:
        """The position after the last event: where a new stream would resume."""
        return self.state.parser.last_id

    def __next__(self) -> Event:
        return next(self._events)

    def __enter__(self) -> "EventStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._events.close()

    def _run(self) -> Generator[Event]:
        state = self.state
        while True:
            try:
                yield from self._connection()
                exc = None
            except DROPPED as error:
                exc = error
                state.failures += 1
            if state.failures >= state.retry.attempts and exc is not None:
                raise ConnectionFailed(f"stream {state.url}: {exc}") from exc
            if (pause := state.pause()) is not None:
                state.dropped(exc)
                self._sleep(pause)

    def _connection(self) -> Generator[Event]:
        state = self.state
        timeout = httpx.Timeout(self._http.timeout.connect, read=READ_TIMEOUT)
        request = self._http.build_request(
            "GET", state.url, headers=state.request_headers(), timeout=timeout
        )
        response = self._http.send(request, stream=True)
        try:
            if response.status_code != 200:
                response.read()
            if not state.opened(response):
                return
            for line in response.iter_lines():
                state.failures = 0
                if (event := state.parser.feed(line)) is not None:
                    yield event
        finally:
            response.close()


class AsyncEventStream(AsyncIterator[Event]):
    """A stream for `async for event in stream:`; `await aclose()` ends it."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        headers: dict[str, str],
        *,
        last_event_id: str | None,
        retry: Retry,
        sleep: Callable[[float], Any],
    ) -> None:
        self._http, self._sleep = http, sleep
        self.state = _Resumption(url, headers, last_event_id, retry)
        self._events = self._run()

    @property
    def last_event_id(self) -> str | None:
        return self.state.parser.last_id

    async def __anext__(self) -> Event:
        return await anext(self._events)

    async def __aenter__(self) -> "AsyncEventStream":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._events.aclose()

    async def _run(self) -> AsyncGenerator[Event]:
        state = self.state
        while True:
            exc = None
            try:
                async for event in self._connection():
                    yield event
            except DROPPED as error:
                exc = error
                state.failures += 1
            if state.failures >= state.retry.attempts and exc is not None:
                raise ConnectionFailed(f"stream {state.url}: {exc}") from exc
            if (pause := state.pause()) is not None:
                state.dropped(exc)
                await self._sleep(pause)

    async def _connection(self) -> AsyncGenerator[Event]:
        state = self.state
        timeout = httpx.Timeout(self._http.timeout.connect, read=READ_TIMEOUT)
        request = self._http.build_request(
            "GET", state.url, headers=state.request_headers(), timeout=timeout
        )
        response = await self._http.send(request, stream=True)
        try:
            if response.status_code != 200:
                await response.aread()
            if not state.opened(response):
                return
            async for line in response.aiter_lines():
                state.failures = 0
                if (event := state.parser.feed(line)) is not None:
                    yield event
        finally:
            await response.aclose()
