"""Public catalogue endpoints: shapes, filters and the error envelope."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def test_regions_list_is_paginated_with_codes(api):
    body = api.get("/api/v1/regions/").json()
    assert body["count"] == 15
    guian = next(r for r in body["results"] if r["code"] == "CLU-GUIAN")
    assert guian["role"] == "west-supply"
    assert guian["green_share"] == "0.3680"  # fixtures/, from shared/refdata
    assert guian["electricity_price_cny_per_kwh"] == "0.4000"


def test_regions_filter_by_role(api):
    body = api.get("/api/v1/regions/", {"role": "east-demand"}).json()
    assert {r["code"] for r in body["results"]} == {
        "CITY-BJ",
        "CITY-SH",
        "CITY-SZ",
        "CITY-GZU",
        "CITY-HZ",
    }


def test_chips_carry_stack_codes(api):
    chips = api.get("/api/v1/chips/", {"limit": 500}).json()["results"]
    stacks = {c["code"]: c["stack"] for c in chips}
    assert stacks["nvidia-h100-sxm-80gb"] == "CUDA"
    assert stacks["huawei-ascend-910b"] == "CANN"
    assert stacks["cambricon-mlu370-x8"] == "NEUWARE"
    assert len(chips) == 33


def test_profiles_list(api):
    codes = [p["code"] for p in api.get("/api/v1/profiles/").json()["results"]]
    assert codes == ["cpu", "hpc", "infer", "render", "train"]


def test_conversion_returns_scu_h_factor_and_version(api):
    body = api.get(
        "/api/v1/conversion/",
        {"chip": "nvidia-a100-80gb-sxm", "profile": "train", "count": 8, "hours": 24},
    ).json()
    assert body["factor"] == "1.000000"
    assert Decimal(body["scu_h"]) == Decimal(192)
    assert body["table_version"] == 1
    assert body["estimated"] is False


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"chip": "no-such-chip", "profile": "train"}, "chip"),
        ({"chip": "nvidia-a100-80gb-sxm", "profile": "nope"}, "profile"),
        ({"chip": "nvidia-a100-80gb-sxm", "profile": "train", "hours": "0"}, "hours"),
        ({"chip": "nvidia-a100-80gb-sxm", "profile": "train", "hours": "-3"}, "hours"),
        ({"chip": "nvidia-a100-80gb-sxm", "profile": "train", "count": "0"}, "count"),
        (
            {"chip": "nvidia-a100-80gb-sxm", "profile": "train", "count": "eight"},
            "count",
        ),
        ({"chip": "nvidia-a100-80gb-sxm", "profile": "train", "hours": "NaN"}, "hours"),
        ({"profile": "train"}, "chip"),
        ({"chip": "a b", "profile": "train"}, "chip"),
    ],
)
def test_conversion_bad_input_is_400_envelope(api, params, field):
    response = api.get("/api/v1/conversion/", params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"]
    assert error["message"]


def test_conversion_without_factor_is_422(api):
    response = api.get("/api/v1/conversion/", {"chip": "nvidia-l40s", "profile": "hpc"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "no_conversion_factor"


def test_nul_anywhere_is_invalid_character(api):
    response = api.get(
        "/api/v1/conversion/", {"chip": "nvidia\x00", "profile": "train"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_character"


def test_surcharges_requires_known_profile(api):
    assert api.get("/api/v1/surcharges/").status_code == 400
    response = api.get("/api/v1/surcharges/", {"profile": "bogus"})
    assert response.json()["error"]["fields"]["profile"]


def test_surcharges_rows(api):
    body = api.get("/api/v1/surcharges/", {"profile": "train", "limit": 500}).json()
    assert body["count"] == 225
    row = next(
        r
        for r in body["results"]
        if r["sell_region"] == "CLU-GUIAN" and r["buy_region"] == "CITY-SZ"
    )
    assert Decimal(row["surcharge"]) > 0
    assert set(row) == {
        "sell_region",
        "buy_region",
        "surcharge",
        "latency_ms",
        "table_version",
    }


@pytest.mark.parametrize(
    "query",
    # "³" and "٣" are digits to str.isdigit(), not to int(): schemathesis found a 500
    ["limit=0", "limit=501", "offset=-1", "limit=abc", "limit=%C2%B3", "offset=%D9%A3"],
)
def test_pagination_bounds_are_400(api, query):
    assert api.get(f"/api/v1/regions/?{query}").status_code == 400


def test_unknown_api_url_answers_in_envelope(api):
    response = api.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_method_not_allowed_in_envelope(api):
    response = api.post("/api/v1/regions/", {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_schema_is_served(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
