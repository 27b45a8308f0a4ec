"""The OpenAPI schema says what the input fields check: decimal patterns with their
range, non-empty lists, non-empty filters, and examples that name catalogue objects
(schemathesis draws from the schema; what it allows should be what the API takes)."""

import itertools
import re

import pytest
from rest_framework import serializers
from rest_framework.test import APIClient

from exchange.api.market_serializers import CandleQuery
from exchange.api.serializers import AmendInput, ConstraintsInput, OrderInput
from market.api.schema import decimal_pattern
from market.api.serializers import ConversionQuery
from market.models import ChipModel, Region, SoftwareStack, WorkloadProfile
from settlement.api.serializers import ReportInput


def schema() -> dict:
    response = APIClient().get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert response.status_code == 200
    return response.json()


def _accepts(field: serializers.Field, value: str) -> bool:
    try:
        field.run_validation(value)
    except serializers.ValidationError:
        return False
    return True


DECIMAL_INPUTS = {
    "price": OrderInput().fields["price"],
    "quantity": OrderInput().fields["quantity"],
    "amend price": AmendInput().fields["price"],
    "min_green_share": ConstraintsInput().fields["min_green_share"],
    "delivered_quantity": ReportInput().fields["delivered_quantity"],
    "hours": ConversionQuery().fields["hours"],
}
EDGES = [
    "1000000",
    "1000000.00",
    "1000000.01",
    "999999.99",
    "100000000.0",
    "100000000.1",
    "8784.00",
    "8784.01",
    "1.0000",
    "1.0001",
    "0.0001",
    "0.00001",
    "0000000000000000000012.5",
    "999999999999999.9",
    "1000000000000000",
    " ",
]


@pytest.mark.parametrize("name", DECIMAL_INPUTS)
def test_decimal_pattern_is_what_the_field_accepts(name):
    """Every string of up to 5 of `019.-`, and the edges of each range: the pattern
    matches exactly the strings the field takes."""
    field = DECIMAL_INPUTS[name]
    pattern = re.compile(decimal_pattern(field))
    shorts = (
        "".join(p) for n in range(6) for p in itertools.product("019.-", repeat=n)
    )
    wrong = [
        value
        for value in itertools.chain(shorts, EDGES)
        if bool(pattern.fullmatch(value)) != _accepts(field, value)
    ]
    assert wrong == []


def test_decimal_pattern_leaves_other_bounds_to_the_default():
    """A negative lower bound is not spelt out: drf-spectacular's pattern stays."""
    field = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=-1)
    assert decimal_pattern(field) is None


@pytest.mark.django_db
def test_schema_states_list_lengths_and_non_empty_filters():
    doc = schema()
    components = doc["components"]["schemas"]
    constraints = components["ConstraintsInputRequest"]["properties"]
    assert (constraints["stacks"]["minItems"], constraints["stacks"]["maxItems"]) == (
        1,
        20,
    )
    assert constraints["regions"]["minItems"] == 1
    orders = components["BatchInputRequest"]["properties"]["orders"]
    assert (orders["minItems"], orders["maxItems"]) == (1, 100)
    chips = {
        p["name"]: p["schema"]
        for p in doc["paths"]["/api/v1/chips/"]["get"]["parameters"]
    }
    assert chips["vendor"]["minLength"] == chips["stack"]["minLength"] == 1
    years = components["OrderInputRequest"]["properties"]["expires_at"]["pattern"]
    assert re.match(years, "2026-12-01T00:00:00+08:00")
    assert not re.match(years, "1999-12-31T00:00:00+08:00")


@pytest.mark.django_db
def test_what_the_schema_states_is_refused():
    """An empty filter, an empty constraint list, a time before 2000."""
    assert APIClient().get("/api/v1/chips/?vendor=").status_code == 400
    assert not ConstraintsInput(data={"stacks": []}).is_valid()
    assert not CandleQuery(data={"from": "1999-12-31T00:00:00+08:00"}).is_valid()


@pytest.mark.django_db
def test_code_examples_name_catalogue_objects():
    """The examples schemathesis starts from exist once load_catalogue has run."""
    models = {
        "chip": ChipModel,
        "profile": WorkloadProfile,
        "stack": SoftwareStack,
        "region": Region,
    }
    examples = {}
    for path in schema()["paths"].values():
        for operation in path.values():
            for param in operation.get("parameters", []):
                if "example" in param["schema"]:
                    examples[param["name"]] = param["schema"]["example"]
    assert examples["chip"] == "nvidia-h100-sxm-80gb"
    for name, model in models.items():
        assert model.objects.filter(code=examples[name]).exists(), name
    assert Region.objects.filter(code="CLU-GUIAN").exists()  # a cluster's site
    assert Region.objects.filter(residency_zone="yangtze-river-delta").exists()
