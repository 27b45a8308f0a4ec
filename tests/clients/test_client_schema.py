"""The Python client (clients/python) against the OpenAPI schema the server generates:
every operation has a method on `Client` and on `AsyncClient` (and every method an
operation), each method's parameters are the operation's parameters and request body
fields, and each typed model has the response schema's fields with their types and
nullability, so the client and the API cannot drift apart."""

import dataclasses
import functools
import operator
import types
import typing
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar

import pytest
from drf_spectacular.settings import spectacular_settings
from yiwang_client import AsyncClient, Client
from yiwang_client.calls import Bound, operations
from yiwang_client.codec import hints
from yiwang_client.errors import FAMILIES
from yiwang_client.streams import AsyncEventStream, EventStream

CLIENTS = {Client: EventStream, AsyncClient: AsyncEventStream}
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema() -> dict:
    generator = spectacular_settings.DEFAULT_GENERATOR_CLASS()
    return generator.get_schema(request=None, public=True)


@pytest.fixture(scope="module")
def operations_by_id(schema) -> dict[str, dict]:
    return {
        op["operationId"]: op
        for item in schema["paths"].values()
        for method, op in item.items()
        if method in METHODS
    }


def resolve(schema: dict, node: dict) -> dict:
    """A schema node with its `$ref` (or single `allOf`) followed."""
    while True:
        if "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].split("/")[-1]]
        elif len(node.get("allOf", ())) == 1:
            node = node["allOf"][0]
        else:
            return node


def body_of(schema: dict, op: dict) -> tuple[dict, set[str]]:
    """The request body's properties and its required fields (none: ({}, {}))."""
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return {}, set()
    body = resolve(schema, content["application/json"]["schema"])
    return body.get("properties", {}), set(body.get("required", ()))


def parameters(sig) -> dict[str, Any]:
    """A method's parameters by the API's names (`from_` is `from`)."""
    return {name.removesuffix("_"): p for name, p in sig.parameters.items()}


# --- what the schema says a value is, against what the client's type says ----------
def optional(tp: Any) -> tuple[Any, bool]:
    """(`tp` without None, whether it allowed None)."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) < len(typing.get_args(tp)):
            return functools.reduce(operator.or_, args), True
    return tp, False


def type_errors(schema: dict, node: dict, tp: Any, where: str, bound: dict) -> list:
    """How the python type `tp` differs from the schema node (recursively)."""
    if isinstance(tp, TypeVar):
        tp = bound[tp]
    if isinstance(tp, typing.TypeAliasType):
        tp = tp.__value__
    inner = resolve(schema, node)
    nullable = bool(node.get("nullable") or inner.get("nullable"))
    tp, allows_none = optional(tp)
    errors = []
    if nullable and not allows_none:
        errors.append(f"{where}: the schema allows null, the model does not")
    if "enum" in inner:
        values = [v for v in inner["enum"] if v not in (None, "")]
        if typing.get_origin(tp) is not Literal or set(typing.get_args(tp)) != set(
            values
        ):
            errors.append(f"{where}: enum {values}, the client {tp}")
        return errors
    kind, fmt = inner.get("type"), inner.get("format")
    if kind == "object" and "properties" in inner:
        return errors + model_errors(schema, inner, tp, where, bound)
    if kind == "array":
        if typing.get_origin(tp) not in (list, typing.get_origin(list[int])):
            return [*errors, f"{where}: an array, the client {tp}"]
        (item,) = typing.get_args(tp) or (Any,)
        return errors + type_errors(schema, inner["items"], item, f"{where}[]", bound)
    expected = {
        ("string", "decimal"): (Decimal,),
        ("string", "date-time"): (datetime,),
        ("string", "date"): (date,),
        ("integer", None): (int,),
        ("integer", "int64"): (int,),
        ("boolean", None): (bool,),
        ("number", "double"): (float,),
        ("object", None): (dict,),
    }.get((kind, fmt), (str,))
    if (typing.get_origin(tp) or tp) not in expected:
        errors.append(f"{where}: {kind}/{fmt}, the client {tp}")
    return errors


def model_errors(schema: dict, node: dict, tp: Any, where: str, bound: dict) -> list:
    """A dataclass against an object schema: the same fields, required ones without
    a default, each of the right type."""
    cls = typing.get_origin(tp) or tp
    if not dataclasses.is_dataclass(cls):
        return [f"{where}: an object, the client {tp}"]
    bound = bound | dict(
        zip(getattr(cls, "__type_params__", ()), typing.get_args(tp), strict=False)
    )
    properties, required = node["properties"], set(node.get("required", ()))
    fields = {f.name: f for f in dataclasses.fields(cls)}
    errors = []
    if set(fields) != set(properties):
        missing = sorted(set(properties) - set(fields))
        extra = sorted(set(fields) - set(properties))
        errors.append(f"{where} ({cls.__name__}): lacks {missing}, has extra {extra}")
    for name in set(fields) & set(properties):
        has_default = fields[name].default is not dataclasses.MISSING
        if has_default == (name in required):
            errors.append(f"{where}.{name}: required={name in required}")
        nullable = properties[name].get("nullable", False)
        if name in required and not nullable and optional(hints(cls)[name])[1]:
            errors.append(f"{where}.{name}: never null, the model allows None")
        errors += type_errors(
            schema, properties[name], hints(cls)[name], f"{where}.{name}", bound
        )
    return errors


# --- the tests ----------------------------------------------------------------------
@pytest.mark.parametrize("client", list(CLIENTS), ids=lambda c: c.__name__)
def test_every_operation_has_a_method_and_every_method_an_operation(
    client, operations_by_id
):
    """No operation of the schema without a method, no method for an operation the
    API does not have; an operation answering CSV as well has a `_csv` method."""
    covered = {b.operation.operation_id for b in operations(client)}
    assert sorted(set(operations_by_id) - covered) == [], "operations without a method"
    assert sorted(covered - set(operations_by_id)) == [], "methods without operation"
    for bound in operations(client):
        op = operations_by_id[bound.operation.operation_id]
        formats = {
            content
            for status, response in op["responses"].items()
            if status.startswith("2")
            for content in response.get("content", {})
        }
        if "text/csv" in formats:
            names = {b.name for b in operations(client)}
            assert f"{bound.name.removesuffix('_csv')}_csv" in names, bound.name


def all_bound() -> list[tuple[type, Bound]]:
    return [(c, b) for c in CLIENTS for b in operations(c)]


BOUND_IDS = [f"{c.__name__}.{b.name}" for c, b in all_bound()]


@pytest.mark.parametrize(("client", "bound"), all_bound(), ids=BOUND_IDS)
def test_method_parameters_are_the_operations_parameters_and_body_fields(
    client, bound, schema, operations_by_id
):
    """The method's parameters, with the ones it sets itself (`format`) and the ones
    its transport sends (`Last-Event-ID`), are exactly the operation's parameters
    and request body fields; what the API requires has no default in the method,
    what it does not has one; a body field that is an object is an input model
    with the schema's fields."""
    op = operations_by_id[bound.operation.operation_id]
    declared = {p["name"]: p for p in op.get("parameters", ())}
    body, body_required = body_of(schema, op)
    method = parameters(bound.operation.signature)
    own = set(bound.operation.fixed) | set(bound.operation.transport)
    assert own <= set(declared), f"{bound.name}: sets {own - set(declared)}"
    assert not own & set(method), bound.name
    assert set(method) | own == set(declared) | set(body), bound.name
    for name, param in method.items():
        required = (
            declared[name].get("required", False)
            if name in declared
            else (name in body_required)
        )
        has_default = param.default is not param.empty
        assert has_default != required, f"{bound.name}({name}): required={required}"
    build_hints = typing.get_type_hints(bound.operation.build)
    for name, field in body.items():
        python = build_hints[name]
        errors = input_errors(schema, field, python, f"{bound.name}({name})")
        assert errors == [], errors


def input_errors(schema: dict, field: dict, python: Any, where: str) -> list:
    """A body field that holds objects (constraints, a batch's orders) against the
    input model the method takes for it: the same fields, the same required ones."""
    node = resolve(schema, field)
    if node.get("type") == "array":
        node = resolve(schema, node["items"])
        python = typing.get_args(optional(python)[0])[0]
    if "properties" not in node:
        return []
    cls, _ = optional(python)
    if not dataclasses.is_dataclass(cls):
        return [f"{where}: an object, the client {python}"]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    errors = []
    if set(fields) != set(node["properties"]):
        errors.append(f"{where}: {sorted(fields)} != {sorted(node['properties'])}")
    required = set(node.get("required", ()))
    for name, f in fields.items():
        if (f.default is dataclasses.MISSING) != (name in required):
            errors.append(f"{where}.{name}: required={name in required}")
        if name in node["properties"]:
            errors += input_errors(
                schema, node["properties"][name], hints(cls)[name], f"{where}.{name}"
            )
    return errors


@pytest.mark.parametrize(("client", "bound"), all_bound(), ids=BOUND_IDS)
def test_response_models_have_the_response_schemas_fields(
    client, bound, schema, operations_by_id
):
    """Each success answer the method reads decodes into a model with exactly the
    schema's fields, of its types and nullability (nested models too); a `_csv`
    method reads text/csv, a stream method text/event-stream."""
    op = operations_by_id[bound.operation.operation_id]
    successes = {s: r for s, r in op["responses"].items() if s.startswith("2")}
    assert successes, bound.name
    for status, response in successes.items():
        content = response.get("content", {})
        if bound.returns in (EventStream, AsyncEventStream):
            assert bound.returns is CLIENTS[client]
            assert "text/event-stream" in content, (bound.name, status)
        elif bound.operation.fixed.get("format") == "csv":
            assert bound.returns is str
            assert "text/csv" in content, (bound.name, status)
        else:
            node = content["application/json"]["schema"]
            errors = type_errors(schema, node, bound.returns, bound.name, {})
            assert errors == [], errors


def test_every_error_status_of_the_schema_has_an_exception_family(operations_by_id):
    """Each 4xx an operation documents is raised as its own family's exception."""
    statuses = {
        int(status)
        for op in operations_by_id.values()
        for status in op["responses"]
        if status.startswith("4")
    }
    assert statuses <= set(FAMILIES), sorted(statuses - set(FAMILIES))
