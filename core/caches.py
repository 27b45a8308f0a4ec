"""One registry of the process's caches of immutable rows (published tables,
clusters' chips), so that tests and repairs can drop them all at once (`clear`)
without knowing who keeps what."""

import functools
from collections.abc import Callable

_clearers: list[Callable[[], None]] = []


def register(clear: Callable[[], None]) -> None:
    """Have `clear()` call `clear`, e.g. a dict cache's own `clear`."""
    _clearers.append(clear)


def memoize[F: Callable](maxsize: int) -> Callable[[F], F]:
    """`functools.lru_cache(maxsize)`, registered with `clear`."""

    def decorate(fn: F) -> F:
        cached = functools.lru_cache(maxsize=maxsize)(fn)
        register(cached.cache_clear)
        return cached  # type: ignore[return-value]

    return decorate


def clear() -> None:
    """Drop everything every registered cache holds."""
    for clear_one in _clearers:
        clear_one()
