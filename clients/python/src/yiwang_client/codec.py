"""JSON to the typed models and back, by the models' type hints.

Decimals travel as strings both ways (a JSON number where a decimal goes is a 400,
and a float would round), times as ISO 8601 with their offset. A float given where
the API wants a decimal is refused here, before it could lose a digit.
"""

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar, Union

T = TypeVar("T")


@functools.cache
def hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode[T](tp: type[T] | Any, value: Any) -> T:
    """`value` (parsed JSON) as an instance of `tp`."""
    return typing.cast(T, _decode(tp, value, {}))


def _decode(tp: Any, value: Any, bound: dict[Any, Any]) -> Any:
    if isinstance(tp, TypeVar):
        tp = bound[tp]
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _decode(inner, value, bound)
    if tp is Any or origin is Literal or tp in (str, bool, int):
        return value
    if origin is list:
        return [_decode(args[0], item, bound) for item in value]
    if origin is dict:
        return {key: _decode(args[1], item, bound) for key, item in value.items()}
    if tp is float:
        return float(value)
    if tp is Decimal:
        return Decimal(value)
    if tp is datetime:
        return datetime.fromisoformat(value)
    if tp is date:
        return date.fromisoformat(value)
    cls = origin or tp
    if dataclasses.is_dataclass(cls):
        params = getattr(cls, "__type_params__", ())
        bound = bound | dict(zip(params, args, strict=False))
        return _decode_model(typing.cast(type, cls), value, bound)
    raise TypeError(f"cannot decode {tp!r}")


def _decode_model(cls: type, value: Mapping[str, Any], bound: dict[Any, Any]) -> Any:
    if not isinstance(value, Mapping):
        raise TypeError(f"{cls.__name__}: expected an object, got {value!r:.80}")
    kwargs = {}
    for field in dataclasses.fields(cls):
        if field.name in value:
            kwargs[field.name] = _decode(
                hints(cls)[field.name], value[field.name], bound
            )
    return cls(**kwargs)


def encode(value: Any) -> Any:
    """A request body (or part of one) as JSON: None-valued fields of a model left
    out (the server's defaults apply), decimals and times as strings."""
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        raise TypeError(f"{value!r}: give decimals as Decimal or str, never float")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: encode(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not None
        }
    if isinstance(value, Mapping):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    raise TypeError(f"cannot encode {type(value).__name__}")


def query(params: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters: None left out, lists comma-separated, booleans lower case."""
    out = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, list | tuple):
            out[name] = ",".join(str(encode(v)) for v in value)
        else:
            out[name] = str(encode(value))
    return out
