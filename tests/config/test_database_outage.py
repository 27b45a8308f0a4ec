"""A database that does not answer is a 503 with Retry-After, never a 500: in the
API's envelope (the request is the client's to retry; an order with its
client_order_id is placed at most once), and on web pages a small page that says to
reload shortly."""

from contextlib import contextmanager

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from config.middleware import DatabaseUnavailableMiddleware
from market.api.errors import exception_handler
from tests.exchange.conftest import make_buyer
from tests.web.conftest import chinese, text


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


@contextmanager
def database_gone():
    """The real driver fails to connect (a database that does not exist), as it
    does while the server restarts; restored after."""
    name = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = "no_such_db"
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = name


UNAVAILABLE_EN = "Temporarily unavailable"


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_web_page_whose_view_loses_the_database_is_a_503_page(error):
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    request = RequestFactory().get("/markets/")
    response = middleware.process_exception(request, error("connection refused"))
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert UNAVAILABLE_EN in text(response.content.decode())


def test_the_api_and_other_errors_are_left_to_their_handlers():
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    api = RequestFactory().get("/api/v1/instruments/")
    assert middleware.process_exception(api, OperationalError("gone")) is None
    page = RequestFactory().get("/markets/")
    assert middleware.process_exception(page, ValueError("bug")) is None


@pytest.mark.postgres  # SQLite's in-memory test database never closes
@pytest.mark.django_db(transaction=True)
def test_web_pages_while_the_database_is_gone_are_503_pages(catalogue):
    """Anonymous and logged-in pages, in English and Chinese, and the admin (whose
    second-factor check reads the user in a middleware, before any view)."""
    buyer = make_buyer()
    participant = Client()
    participant.force_login(buyer.user)
    staff = Client(raise_request_exception=False)
    staff.force_login(type(buyer.user).objects.create_superuser("ops", "", "x"))
    with database_gone():
        responses = [
            Client().get("/"),
            chinese(Client()).get("/catalogue/chips/"),
            participant.get("/trade/orders/"),
            participant.post("/accounts/settings/", {"display_name": "x"}),
            staff.get("/admin/"),
        ]
    for response in responses:
        assert response.status_code == 503, response.content[:300]
        assert int(response["Retry-After"]) > 0
        assert "<h1>" in response.content.decode()
    assert UNAVAILABLE_EN in text(responses[0].content.decode())
    assert '<html lang="zh-hans">' in responses[1].content.decode()
    assert Client().get("/catalogue/chips/").status_code == 200  # back again
