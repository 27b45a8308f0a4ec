"""Web fixtures: an instrument listed for tomorrow, a funded buyer and a funded
seller with a cluster, each with a logged-in test client, and helpers to read pages."""

import re
from html import unescape

import pytest
from django.test import Client

from tests.exchange.conftest import make_buyer, make_instrument, make_seller
from tests.otp import login_verified

HTMX = {"HTTP_HX_REQUEST": "true"}


def html(response) -> str:
    assert response.status_code == 200, (response.status_code, response.content[:800])
    return response.content.decode()


def text(body: str) -> str:
    """The visible text of a page, tags dropped and whitespace collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip())


def chinese(client: Client) -> Client:
    client.cookies["django_language"] = "zh-hans"
    return client


def logged_in(participant) -> Client:
    client = Client()
    client.force_login(participant.user)
    return client


@pytest.fixture
def instrument(db):
    return make_instrument()


@pytest.fixture
def buyer(db):
    return make_buyer()


@pytest.fixture
def seller(db):
    return make_seller()


@pytest.fixture
def buyer_client(buyer):
    return logged_in(buyer)


@pytest.fixture
def seller_client(seller):
    return logged_in(seller)


@pytest.fixture
def staff_client(db):
    from django.contrib.auth import get_user_model

    operator = get_user_model().objects.create_superuser("operator", "", "pw-op-123")
    return login_verified(Client(), operator)


@pytest.fixture
def other(db):
    """A third participant, to show that one participant's pages and rows are not
    another's."""
    return make_buyer(is_seller=True)
