"""Python client of Yiwang's REST API and its streams: typed, sync and async.

    from yiwang_client import Client, Refused

    client = Client("http://127.0.0.1:8000", token=KEY)
    order = client.place_order(instrument="TRAIN-20261208", side="buy",
                               price="12.50", quantity="10.0", region="CITY-SH")

Every operation of the API is a method of `Client` (and a coroutine of
`AsyncClient`) returning a typed model (`yiwang_client.models`); error answers raise
`ApiError` subclasses; placement retries are idempotent (`client_order_id`); the
streams are iterators that resume after a drop.
"""

from yiwang_client.aio import AsyncClient
from yiwang_client.calls import Call, Retry
from yiwang_client.errors import (
    ApiError,
    Conflict,
    ConnectionFailed,
    InvalidRequest,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    Refused,
    ServerError,
    Throttled,
    UnsupportedRequest,
    YiwangError,
)
from yiwang_client.inputs import ConstraintsInput, NewOrder
from yiwang_client.streams import AsyncEventStream, Event, EventStream
from yiwang_client.sync import Client

__all__ = [
    "ApiError",
    "AsyncClient",
    "AsyncEventStream",
    "Call",
    "Client",
    "Conflict",
    "ConnectionFailed",
    "ConstraintsInput",
    "Event",
    "EventStream",
    "InvalidRequest",
    "NewOrder",
    "NotAuthenticated",
    "NotFound",
    "PermissionDenied",
    "Refused",
    "Retry",
    "ServerError",
    "Throttled",
    "UnsupportedRequest",
    "YiwangError",
]
