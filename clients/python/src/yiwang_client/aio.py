"""The asyncio client: the same operations as `Client`, each a coroutine.

async with AsyncClient("http://127.0.0.1:8000", token=KEY) as client:
    book = await client.get_book("TRAIN-20261208", region="CITY-SH")
    async for event in client.market_stream(["TRAIN-20261208"]):
        ...
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import httpx

from yiwang_client.base import ClientBase, next_page_params
from yiwang_client.calls import Attempts, Call, Operation, Retry, stream_operation
from yiwang_client.models import CursorPage, Page
from yiwang_client.streams import AsyncEventStream
from yiwang_client.sync import STREAM_TRANSPORT


class AsyncClient(ClientBase):
    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        streams_url: str | None = None,
        timeout: float = 10.0,
        retry: Retry | None = None,
        client_order_id_prefix: str = "py",
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        super().__init__(
            url,
            token=token,
            streams_url=streams_url,
            retry=retry,
            client_order_id_prefix=client_order_id_prefix,
        )
        self.http = httpx.AsyncClient(timeout=timeout, transport=transport)
        self._sleep = sleep

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def send[T](self, call: Call[T]) -> T:
        """One operation's call, tried again as `self.retry` and the call allow."""
        attempts = Attempts(self.retry, call)
        while True:
            try:
                response = await self.http.request(
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
            await self._sleep(delay)

    def _bind(self, op: Operation[..., Any]) -> Callable[..., Any]:
        async def method(*args: Any, **kwargs: Any) -> Any:
            return await self.send(op.build(self, *args, **kwargs))

        return op.wraps(method)

    async def paginate[T](
        self,
        method: Callable[..., Awaitable[Page[T] | CursorPage[T]]],
        **params: Any,
    ) -> AsyncIterator[T]:
        """Every row of a list, page after page:
        `async for fill in client.paginate(client.list_fills, instrument=s)`."""
        while True:
            page = await method(**params)
            for row in page.results:
                yield row
            if (more := next_page_params(page.next)) is None:
                return
            params |= more

    # --- streams ------------------------------------------------------------------
    @stream_operation("stream_market", transport=STREAM_TRANSPORT)
    def market_stream(
        self, instruments: Sequence[str], *, last_event_id: str | None = None
    ) -> AsyncEventStream:
        """As `Client.market_stream`, for `async for`."""
        return self._stream(self._market_stream_url(instruments), last_event_id)

    @stream_operation("stream_private", transport=STREAM_TRANSPORT)
    def private_stream(self, *, last_event_id: str | None = None) -> AsyncEventStream:
        """As `Client.private_stream`, for `async for`."""
        return self._stream(self._private_stream_url(), last_event_id)

    def _stream(self, url: str, last_event_id: str | None) -> AsyncEventStream:
        return AsyncEventStream(
            self.http,
            url,
            self._auth_headers(),
            last_event_id=last_event_id,
            retry=self.retry,
            sleep=self._sleep,
        )
