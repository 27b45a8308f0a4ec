"""What the sync and async clients share: the address, the key, the retry policy,
fresh client order ids and the streams' URLs."""

import itertools
import secrets
from collections.abc import Sequence
from urllib.parse import parse_qs, urlencode, urlsplit

from yiwang_client.calls import Retry
from yiwang_client.operations import Operations

API_PREFIX = "/api/v1/"


class ClientBase(Operations):
    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        streams_url: str | None = None,
        retry: Retry | None = None,
        client_order_id_prefix: str = "py",
    ) -> None:
        """`url`: the server (e.g. http://127.0.0.1:8000). `streams_url`: the
        streams process, when it listens elsewhere (else `url`, which redirects
        there when it knows it)."""
        self.url = url.rstrip("/")
        self.base_url = self.url + API_PREFIX
        self.streams_url = (streams_url or url).rstrip("/") + API_PREFIX
        self.retry = retry or Retry()
        self.token = token
        # Unique across runs (a restarted bot must not reuse an id: the server
        # keeps them for ever) and short enough for the 64-character limit.
        self._coid_prefix = f"{client_order_id_prefix}-{secrets.token_hex(4)}"
        self._coids = itertools.count(1)

    def new_client_order_id(self) -> str:
        """A fresh client_order_id (placement gives one to an order without)."""
        return f"{self._coid_prefix}-{next(self._coids)}"

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"} if self.token else {}

    def _market_stream_url(self, instruments: Sequence[str]) -> str:
        query = urlencode({"instruments": ",".join(instruments)})
        return f"{self.streams_url}stream/market/?{query}"

    def _private_stream_url(self) -> str:
        return f"{self.streams_url}stream/private/"


def next_page_params(next_url: str | None) -> dict[str, str] | None:
    """The `cursor` or `offset` (with `limit`) of a page's `next` URL."""
    if not next_url:
        return None
    params = parse_qs(urlsplit(next_url).query)
    return {k: v[0] for k, v in params.items() if k in ("cursor", "offset", "limit")}
