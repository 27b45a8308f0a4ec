"""The helpers every group of operations builds its calls with."""

from typing import Any
from urllib.parse import quote

from yiwang_client.calls import Call
from yiwang_client.codec import encode, query


def url_path(template: str, **values: object) -> str:
    """A path with its parameters quoted."""
    return template.format(**{k: quote(str(v), safe="") for k, v in values.items()})


def get_call(path: str, model: Any, **params: Any) -> Call[Any]:
    """A GET of `path`, its answer read into `model`, None parameters left out."""
    return Call("GET", path, model, query(params))


def json_body(fields: dict[str, Any]) -> dict[str, Any]:
    """A JSON body, None fields left out (the server's defaults apply)."""
    return {k: encode(v) for k, v in fields.items() if v is not None}
