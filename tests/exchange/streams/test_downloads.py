"""History downloads: ?format=csv gives the JSON's rows as CSV with a header line,
the same filters and page, times on the Asia/Shanghai clock with their offset."""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from exchange.models import Trade
from tests.apiclient import client_for
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def traded(catalogue):
    instrument = make_instrument(band=None)
    buyer, seller = make_buyer(), make_seller()
    for price in ("11.00", "11.50", "12.00"):
        place(seller, instrument, "sell", "2.0", price)
        place(buyer, instrument, "buy", "2.0", "13.00")
    assert Trade.objects.filter(instrument=instrument).count() == 3
    return instrument


def _csv(response) -> list[dict]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_trades_csv_has_the_json_rows_and_shanghai_times(traded):
    """Each trade is a row with the JSON's values; executed_at carries +08:00 and is
    the same instant as the database's."""
    client = client_for()
    url = f"/api/v1/instruments/{traded.symbol}/trades/"
    json_rows = client.get(url).json()["results"]
    response = client.get(url, {"format": "csv"})
    rows = _csv(response)
    assert response.content.decode().splitlines()[0] == (
        "id,price,all_in_price,quantity,sell_region,buy_region,aggressor,executed_at"
    )
    assert rows == [{k: str(v) for k, v in row.items()} for row in json_rows]
    assert 'filename="' in response["Content-Disposition"]
    for row in rows:
        at = datetime.fromisoformat(row["executed_at"])
        assert row["executed_at"].endswith("+08:00")
        assert at.utcoffset() == SHANGHAI.utcoffset(at.replace(tzinfo=None))
        assert at == Trade.objects.get(pk=row["id"]).executed_at


def test_trades_csv_pages_like_the_json(traded):
    """The same page: limit=2 gives the two newest, the next page in a Link header."""
    client = client_for()
    url = f"/api/v1/instruments/{traded.symbol}/trades/"
    response = client.get(url, {"format": "csv", "limit": 2})
    rows = _csv(response)
    assert [int(r["id"]) for r in rows] == sorted(
        Trade.objects.filter(instrument=traded).values_list("pk", flat=True),
        reverse=True,
    )[:2]
    link = response["Link"]
    assert 'rel="next"' in link
    following = _csv(client.get(link[1 : link.index(">")]))
    assert len(following) == 1


def test_candles_csv_has_the_json_rows(traded):
    client = client_for()
    url = f"/api/v1/instruments/{traded.symbol}/candles/"
    query = {"interval": "1m"}
    json_rows = client.get(url, query).json()["results"]
    rows = _csv(client.get(url, query | {"format": "csv"}))
    assert json_rows
    assert rows == [{k: str(v) for k, v in row.items()} for row in json_rows]
    assert all(r["start"].endswith("+08:00") for r in rows)
    assert sum(int(r["trades"]) for r in rows) == 3


def test_index_csv_has_the_json_rows(traded):
    client = client_for()
    json_rows = client.get("/api/v1/index/", {"profile": "train"}).json()["results"]
    rows = _csv(client.get("/api/v1/index/", {"profile": "train", "format": "csv"}))
    expected = [
        {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in r.items()}
        for r in json_rows
    ]
    assert json_rows
    assert rows == expected
    assert "date,index,volume,trades,trimmed,provisional" in (
        client.get("/api/v1/index/?profile=train&format=csv").content.decode()
    )


def test_csv_errors_stay_json(traded):
    """A bad filter with format=csv is the API's JSON error, not a CSV."""
    client = client_for()
    url = f"/api/v1/instruments/{traded.symbol}/candles/"
    response = client.get(url, {"format": "csv", "interval": "7m"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "validation_error"
