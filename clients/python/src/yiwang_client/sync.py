"""The blocking client.

from yiwang_client import Client

with Client("http://127.0.0.1:8000", token=KEY) as client:
    order = client.place_order(
        instrument="TRAIN-20261208", side="buy", price="12.50", quantity="10.0"
    )
    for event in client.market_stream(["TRAIN-20261208"]):
        ...
"""

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx

from yiwang_client.base import ClientBase, next_page_params
from yiwang_client.calls import Attempts, Call, Operation, Retry, stream_operation
from yiwang_client.models import CursorPage, Page
from yiwang_client.streams import EventStream

# Parameters the stream sets itself: its position header, the negotiated format.
STREAM_TRANSPORT = ("Last-Event-ID", "format")


class Client(ClientBase):
    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        streams_url: str | None = None,
        timeout: float = 10.0,
        retry: Retry | None = None,
        client_order_id_prefix: str = "py",
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(
            url,
            token=token,
            streams_url=streams_url,
            retry=retry,
            client_order_id_prefix=client_order_id_prefix,
        )
        self.http = httpx.Client(timeout=timeout, transport=transport)
        self._sleep = sleep

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send[T](self, call: Call[T]) -> T:
        """One operation's call, tried again as `self.retry` and the call allow."""
        attempts = Attempts(self.retry, call)
        while True:
            try:
                response = self.http.request(
                    call.method,
                    self.base_url + call.path,
                    params=call.params,
                    json=call.body,
                    headers=self._auth_headers(),
                )
            except httpx.TransportError as exc:
                delay = attempts.after_error(exc)
            else:
                wait = attempts.after_answer(response)
                if wait is None:
                    return call.read(response)
                delay = wait
            self._sleep(delay)

    def _bind(self, op: Operation[..., Any]) -> Callable[..., Any]:
        def method(*args: Any, **kwargs: Any) -> Any:
            return self.send(op.build(self, *args, **kwargs))

        return op.wraps(method)

    def paginate[T](
        self, method: Callable[..., Page[T] | CursorPage[T]], **params: Any
    ) -> Iterator[T]:
        """Every row of a list, page after page:
        `for fill in client.paginate(client.list_fills, instrument=s)`."""
        while True:
            page = method(**params)
            yield from page.results
            if (more := next_page_params(page.next)) is None:
                return
            params |= more

    # --- streams ------------------------------------------------------------------
    @stream_operation("stream_market", transport=STREAM_TRANSPORT)
    def market_stream(
        self, instruments: Sequence[str], *, last_event_id: str | None = None
    ) -> EventStream:
        """Events of up to 20 instruments: a `book` snapshot of each, then `trade`,
        `level`, `state` and `region` events; resumes by itself after a drop (pass
        `last_event_id` to resume where an earlier stream was)."""
        return self._stream(self._market_stream_url(instruments), last_event_id)

    @stream_operation("stream_private", transport=STREAM_TRANSPORT)
    def private_stream(self, *, last_event_id: str | None = None) -> EventStream:
        """Your own `order`, `fill`, `delivery` and `settlement` events."""
        return self._stream(self._private_stream_url(), last_event_id)

    def _stream(self, url: str, last_event_id: str | None) -> EventStream:
        return EventStream(
            self.http,
            url,
            self._auth_headers(),
            last_event_id=last_event_id,
            retry=self.retry,
            sleep=self._sleep,
        )
