"""`?format=` names one of the endpoint's formats or is a 400 naming the parameter:
sent empty, it is not silently read as JSON, and an unknown one is not a 404 (the
path exists; the query is wrong)."""

import pytest

from tests.apiclient import client_for
from tests.exchange.conftest import make_instrument

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["", "xml", "AAA"])
@pytest.mark.parametrize("path", ["trades", "candles"])
def test_an_unknown_or_empty_format_is_a_400_naming_it(catalogue, path, value):
    instrument = make_instrument()
    url = f"/api/v1/instruments/{instrument.symbol}/{path}/"
    response = client_for().get(url, {"format": value})
    assert response.status_code == 400, response.content
    assert "csv" in response.json()["error"]["fields"]["format"][0]


def test_a_known_format_still_serves(catalogue):
    instrument = make_instrument()
    url = f"/api/v1/instruments/{instrument.symbol}/trades/"
    assert client_for().get(url, {"format": "csv"}).status_code == 200
    assert client_for().get(url, {"format": "json"}).status_code == 200


def test_index_with_an_unknown_format_is_a_400(catalogue):
    response = client_for().get("/api/v1/index/", {"profile": "train", "format": "AAA"})
    assert response.status_code == 400
    assert "format" in response.json()["error"]["fields"]
