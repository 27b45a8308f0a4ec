"""A database that does not answer is a 503 with Retry-After in the API's envelope,
never a 500: the request is the client's to retry (an order with its
client_order_id is placed at most once)."""

import pytest
from django.db import OperationalError, connection
from rest_framework.test import APIClient

from market.api.errors import exception_handler


def test_an_operational_error_is_a_503_with_retry_after():
    response = exception_handler(OperationalError("server closed the connection"), {})
    assert response.status_code == 503
    assert response.data["error"]["code"] == "service_unavailable"
    assert int(response["Retry-After"]) > 0


@pytest.mark.postgres  # SQLite's in-memory test database never closes
@pytest.mark.django_db(transaction=True)
def test_an_api_request_while_the_database_is_gone_is_a_503():
    """The real driver fails to connect (a database that does not exist), as it
    does while the server restarts."""
    name = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = "no_such_db"
    try:
        response = APIClient().get("/api/v1/instruments/")
    finally:
        connection.close()
        connection.settings_dict["NAME"] = name
    assert response.status_code == 503, response.content
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response["Retry-After"]
    assert APIClient().get("/api/v1/regions/").status_code == 200  # back again
