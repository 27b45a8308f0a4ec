"""/metrics answers only its scraper: a request from METRICS_ALLOWED_IPS (loopback by
default) or one carrying `Authorization: Bearer <METRICS_TOKEN>`; anyone else gets
a 403 and no figure."""

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db
OUTSIDE = "203.0.113.7"


def scrape(address: str = "127.0.0.1", **headers):
    return Client(REMOTE_ADDR=address, headers=headers).get("/metrics")


def test_loopback_scrapes_by_default():
    for address in ("127.0.0.1", "::1"):
        response = scrape(address)
        assert response.status_code == 200
        assert b"yiwang_settlement_lag_seconds" in response.content


def test_another_address_is_refused():
    response = scrape(OUTSIDE)
    assert response.status_code == 403
    assert b"yiwang_" not in response.content


def test_a_forwarded_for_header_does_not_make_a_client_local():
    """With no trusted proxy (API_NUM_PROXIES=0) a client cannot name its own IP,
    and a request a proxy on this host forwarded is not taken for a local one."""
    assert scrape(OUTSIDE, x_forwarded_for="127.0.0.1").status_code == 403
    assert scrape("127.0.0.1", x_forwarded_for=OUTSIDE).status_code == 403
    assert scrape("127.0.0.1", forwarded=f"for={OUTSIDE}").status_code == 403


def test_behind_a_trusted_proxy_the_forwarded_client_counts(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    assert scrape("127.0.0.1", x_forwarded_for=OUTSIDE).status_code == 403
    assert scrape("127.0.0.1", x_forwarded_for="127.0.0.1").status_code == 200


@override_settings(METRICS_TOKEN="s3cret-scrape-token")
def test_the_token_opens_it_from_anywhere():
    response = scrape(OUTSIDE, authorization="Bearer s3cret-scrape-token")
    assert response.status_code == 200
    assert b"yiwang_celery_broker_up" in response.content
    assert scrape(OUTSIDE, authorization="Bearer wrong").status_code == 403
    assert scrape(OUTSIDE, authorization="s3cret-scrape-token").status_code == 403
    assert scrape(OUTSIDE).status_code == 403


@override_settings(METRICS_TOKEN="")
def test_no_token_configured_means_no_token_accepted():
    assert scrape(OUTSIDE, authorization="Bearer ").status_code == 403


@override_settings(METRICS_ALLOWED_IPS=["10.8.0.0/16", "192.0.2.10"])
def test_the_allow_list_takes_networks_and_addresses():
    assert scrape("10.8.3.4").status_code == 200
    assert scrape("192.0.2.10").status_code == 200
    assert scrape("10.9.0.1").status_code == 403
    assert scrape("127.0.0.1").status_code == 403  # the list replaces loopback
