"""What one API operation sends (a `Call`), when it may be sent again (`Retry`),
and the `operation` decorator that writes a method once for both clients.

An operation's method builds a `Call`; the sync `Client` sends it and returns the
decoded answer, the `AsyncClient` returns a coroutine of it. Each method names its
OpenAPI operation (`operation_id`), so a test can hold the method's parameters and
the model it decodes against the server's schema.
"""

import functools
import inspect
import logging
import random
import typing
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Concatenate, Self, overload

import httpx

from yiwang_client.codec import decode
from yiwang_client.errors import ConnectionFailed, Throttled, error_from

if TYPE_CHECKING:
    from yiwang_client.aio import AsyncClient
    from yiwang_client.sync import Client

log = logging.getLogger("yiwang_client")
RETRIED_STATUSES = {429, 500, 502, 503, 504}


@dataclass(frozen=True, slots=True)
class Call[T]:
    """One request and how to read its answer: JSON into `model`, or text."""

    method: str
    path: str
    model: Any = None  # a models class (or Page[...]); None: the body as text
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    # May it go again after a lost connection or a 5xx, when the first may have
    # been carried out? Reads may; an order may because of its client_order_id.
    idempotent: bool = True

    def read(self, response: httpx.Response) -> T:
        if self.model is None:
            return response.text  # type: ignore[return-value]
        value: T = decode(self.model, response.json())
        return value


@dataclass(frozen=True, slots=True)
class Retry:
    """How often and how long to try. 429 is always tried again (after its
    Retry-After: the server did nothing); transport errors and 5xx only for a call
    that is idempotent, or a connection that was never made."""

    attempts: int = 8
    first_delay: float = 0.2
    max_delay: float = 10.0

    def delays(self) -> Iterator[float]:
        delay = self.first_delay
        for _ in range(self.attempts - 1):
            yield delay * random.uniform(1, 1.5)  # noqa: S311  (jitter, not secrets)
            delay = min(delay * 2, self.max_delay)


class Attempts:
    """The decisions of one call's retry loop, shared by both clients: after each
    attempt, the seconds to wait before the next, or the answer, or an error."""

    def __init__(self, retry: Retry, call: Call[Any]) -> None:
        self.call, self.delays = call, retry.delays()

    def after_error(self, exc: httpx.TransportError) -> float:
        never_sent = isinstance(
            exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout
        )
        delay = next(self.delays, None)
        if delay is None or not (self.call.idempotent or never_sent):
            raise ConnectionFailed(
                f"{self.call.method} {self.call.path}: {exc}"
            ) from exc
        log.info("%s %s: %s; trying again", self.call.method, self.call.path, exc)
        return delay

    def after_answer(self, response: httpx.Response) -> float | None:
        """None: the answer is good; else the delay before trying again."""
        status = response.status_code
        if status < 400:
            return None
        error = error_from(response)
        may_retry = status == 429 or (
            status in RETRIED_STATUSES and self.call.idempotent
        )
        delay = next(self.delays, None) if may_retry else None
        if delay is None:
            raise error
        if isinstance(error, Throttled) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        log.info("%s %s: %s; trying again", self.call.method, self.call.path, error)
        return delay


@dataclass(frozen=True)
class Operation[**P, T]:
    """A client method for one OpenAPI operation. `fixed`: parameters the method
    sets itself (e.g. `format=csv`); `transport`: parameters the client's transport
    sends (the `Last-Event-ID` header of a stream)."""

    build: Callable[Concatenate[Any, P], Call[T]]
    operation_id: str
    fixed: dict[str, str] = field(default_factory=dict)
    transport: tuple[str, ...] = ()

    @overload
    def __get__(self, client: None, owner: type) -> Self: ...
    @overload
    def __get__(self, client: "Client", owner: type) -> Callable[P, T]: ...
    @overload
    def __get__(
        self, client: "AsyncClient", owner: type
    ) -> Callable[P, Awaitable[T]]: ...
    def __get__(self, client: Any, owner: type) -> Any:
        if client is None:
            return self
        return client._bind(self)

    @property
    def signature(self) -> inspect.Signature:
        """The method's parameters without `self`, returning what the call reads."""
        sig = inspect.signature(self.build)
        returns = sig.return_annotation
        if typing.get_origin(returns) is Call:
            (returns,) = typing.get_args(returns)
        parameters = list(sig.parameters.values())[1:]
        return sig.replace(parameters=parameters, return_annotation=returns)

    def wraps[F: Callable[..., Any]](self, method: F) -> F:
        """`method` (the bound operation) with the build's name, doc and signature."""
        functools.update_wrapper(method, self.build)
        method.__signature__ = self.signature  # type: ignore[attr-defined]
        return method


def operation[**P, T](
    operation_id: str,
    *,
    fixed: dict[str, str] | None = None,
    transport: tuple[str, ...] = (),
) -> Callable[[Callable[Concatenate[Any, P], Call[T]]], Operation[P, T]]:
    def wrap(build: Callable[Concatenate[Any, P], Call[T]]) -> Operation[P, T]:
        return Operation(build, operation_id, fixed or {}, transport)

    return wrap


def stream_operation[F: Callable[..., Any]](
    operation_id: str, *, transport: tuple[str, ...] = ()
) -> Callable[[F], F]:
    """Tags a client's stream method with its OpenAPI operation."""

    def tag(method: F) -> F:
        method.__operation__ = Operation(method, operation_id, {}, transport)  # type: ignore[attr-defined]
        return method

    return tag


@dataclass(frozen=True)
class Bound:
    """A client method and the operation it performs (see `operations`)."""

    name: str
    operation: Operation[..., Any]
    returns: Any  # the model decoded, `str` for text, or the stream class


def operations(cls: type) -> list[Bound]:
    """Every operation method of a client class, for the schema test."""
    found = []
    for name in dir(cls):
        attr = inspect.getattr_static(cls, name)
        op = (
            attr
            if isinstance(attr, Operation)
            else getattr(attr, "__operation__", None)
        )
        if op is None:
            continue
        returns = typing.get_type_hints(op.build)["return"]
        if typing.get_origin(returns) is Call:
            (returns,) = typing.get_args(returns)
        found.append(Bound(name, op, returns))
    return found
