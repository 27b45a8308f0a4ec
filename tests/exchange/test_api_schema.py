"""The order schema's combination rules say what the API refuses: a body the schema
allows is placed, a body it does not is a 400 (so schemathesis's valid data is valid,
and its invalid data is refused)."""

from datetime import timedelta

import jsonschema
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.apiclient import client_for
from tests.exchange.conftest import make_seller

pytestmark = pytest.mark.django_db


def _json_schema(node):
    """OpenAPI 3.0 to JSON Schema: `nullable: true` becomes "or null"."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [{"type": "null"}, converted]}
    return converted


@pytest.fixture(scope="module")
def components(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get(
            "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
        )
    return _json_schema(response.json()["components"])


def allows(components: dict, name: str, body: dict) -> bool:
    root = {"$ref": f"#/components/schemas/{name}", "components": components}
    return jsonschema.Draft7Validator(root).is_valid(body)


@pytest.fixture
def trader(db):
    return make_seller(is_buyer=True, region="CLU-GUIAN")


def _later() -> str:
    return (timezone.now() + timedelta(hours=2)).isoformat()


BUY = {"side": "buy", "price": "12.00", "quantity": "1.0"}
BODIES = {
    "limit buy": {},
    "limit without price": {"price": None},
    "limit with a blank price": {"price": " "},
    "market GTC": {"type": "market"},
    "market IOC": {"type": "market", "time_in_force": "IOC"},
    "market IOC post-only": {
        "type": "market",
        "time_in_force": "IOC",
        "post_only": True,
    },
    "post-only IOC": {"time_in_force": "IOC", "post_only": True},
    "post-only GTC": {"post_only": True},
    "GTD with expiry": {"time_in_force": "GTD", "expires_at": "later"},
    "GTD without expiry": {"time_in_force": "GTD"},
    "GTC with expiry": {"expires_at": "later"},
    "GTC with null expiry": {"expires_at": None},
    "buy with cluster": {"cluster": "own"},
    "sell": {"side": "sell", "cluster": "own"},
    "sell without cluster": {"side": "sell"},
    "sell with region": {"side": "sell", "cluster": "own", "region": "CITY-SH"},
    "sell with a constraint": {
        "side": "sell",
        "cluster": "own",
        "constraints": {"max_latency_ms": 5},
    },
    "sell with null constraints": {
        "side": "sell",
        "cluster": "own",
        "constraints": {"max_latency_ms": None, "min_green_share": ""},
    },
}


@pytest.mark.parametrize("case", BODIES)
def test_order_schema_allows_what_the_api_places(components, instrument, trader, case):
    extra = dict(BODIES[case])
    body = {"instrument": instrument.symbol, **BUY} | extra
    if extra.get("cluster") == "own":
        body["cluster"] = trader.cluster.pk
    if extra.get("expires_at") == "later":
        body["expires_at"] = _later()
    response = client_for(trader).post("/api/v1/orders/", body, format="json")
    assert response.status_code in (201, 400), response.json()
    assert allows(components, "OrderInputRequest", body) == (
        response.status_code == 201
    ), response.json()


def test_amend_schema_needs_a_price_or_a_quantity(components, instrument, trader):
    api = client_for(trader)
    order = api.post(
        "/api/v1/orders/", {"instrument": instrument.symbol, **BUY}, format="json"
    ).json()
    assert not allows(components, "PatchedAmendInputRequest", {})
    assert (
        api.patch(f"/api/v1/orders/{order['id']}/", {}, format="json").status_code
        == 400
    )
    amend = {"quantity": "2.0"}
    assert allows(components, "PatchedAmendInputRequest", amend)
    assert (
        api.patch(f"/api/v1/orders/{order['id']}/", amend, format="json").status_code
        == 200
    )


def test_batch_orders_carry_no_rules(components, instrument, trader):
    """A batch order without a price is that order's 400, in a 200: so the batch
    schema allows it."""
    orders = [{"instrument": instrument.symbol, **BUY, "price": None}]
    assert allows(components, "BatchInputRequest", {"orders": orders})
    response = client_for(trader).post(
        "/api/v1/orders/batch/", {"orders": orders}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == 400
    assert not allows(components, "BatchInputRequest", {"orders": []})


def test_an_amend_without_a_body_is_refused_and_its_body_is_required(
    instrument, trader
):
    api = client_for(trader)
    order = api.post(
        "/api/v1/orders/", {"instrument": instrument.symbol, **BUY}, format="json"
    ).json()
    assert api.patch(f"/api/v1/orders/{order['id']}/").status_code == 400
    schema = APIClient().get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    patch = schema.json()["paths"]["/api/v1/orders/{order_id}/"]["patch"]
    assert patch["requestBody"]["required"] is True
