"""Sign-up, log-in and log-out, settings, API keys and a provider's clusters: forms
that keep what was typed and say what is wrong beside the field."""

import re

import pytest
from django.contrib.auth import get_user_model

from market.apikeys import apikey_resolve
from market.models import ApiKey, Cluster, ConversionFactor, Participant
from tests.web.conftest import HTMX, chinese, html, logged_in, text

pytestmark = pytest.mark.django_db
PASSWORD = "Compute-2026-west"


def signup_data(**overrides) -> dict:
    return {
        "username": "render-farm",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "display_name": "Hangzhou Render Farm",
        "role": "buyer",
        "home_region": "CITY-HZ",
        **overrides,
    }


def field_errors(body: str, name: str) -> str:
    found = re.search(rf'id="err-{name}"[^>]*>(.*?)</div>', body, re.S)
    assert found, f"no error box for {name}"
    return text(found[1])


@pytest.mark.parametrize(
    ("role", "buyer", "seller"),
    [("buyer", True, False), ("seller", False, True), ("both", True, True)],
)
def test_signup_creates_user_and_participant_and_logs_in(client, role, buyer, seller):
    response = client.post("/accounts/signup/", signup_data(role=role))
    assert response.status_code == 302
    assert response["Location"] == "/funds/deposit/"
    participant = Participant.objects.get(user__username="render-farm")
    assert (participant.is_buyer, participant.is_seller) == (buyer, seller)
    assert participant.home_region.code == "CITY-HZ"
    assert participant.display_name == "Hangzhou Render Farm"
    page = html(client.get("/funds/deposit/"))
    assert "Welcome to Yiwang. Deposit funds to start trading." in page
    assert "render-farm" in page


def test_signup_errors_keep_what_was_typed(client):
    """A password mismatch and a taken username are shown beside their fields;
    the name, role and region typed stay (passwords are never sent back)."""
    get_user_model().objects.create_user("taken", password=PASSWORD)
    body = html(
        client.post(
            "/accounts/signup/",
            signup_data(username="taken", password2="other", role="seller"),
        )
    )
    assert "A user with that username already exists." in field_errors(body, "username")
    assert "The two password fields didn" in field_errors(body, "password2")
    assert 'value="Hangzhou Render Farm"' in body
    assert re.search(r'value="seller"[^>]*checked|checked[^>]*value="seller"', body)
    assert re.search(r'<option value="CITY-HZ" selected>', body)
    assert PASSWORD not in body
    assert not Participant.objects.exists()


def test_signup_errors_in_chinese(client):
    body = html(chinese(client).post("/accounts/signup/", signup_data(role="")))
    assert "该字段是必填项。" in field_errors(body, "role")


def test_login_and_logout(client, buyer):
    buyer.user.set_password(PASSWORD)
    buyer.user.save()
    response = client.post(
        "/accounts/login/",
        {"username": buyer.user.username, "password": PASSWORD, "next": "/funds/"},
    )
    assert response["Location"] == "/funds/"
    assert html(client.get("/funds/"))
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/funds/").status_code == 302


def test_login_failure_keeps_the_username(client, buyer):
    body = html(
        client.post(
            "/accounts/login/", {"username": buyer.user.username, "password": "nope"}
        )
    )
    assert "Please enter a correct username and password." in body
    assert f'value="{buyer.user.username}"' in body


def test_settings_update_and_role_required(buyer_client, buyer):
    data = {"display_name": "New name", "home_region": "CITY-BJ", "is_seller": "on"}
    assert buyer_client.post("/accounts/settings/", data).status_code == 302
    buyer.refresh_from_db()
    assert (buyer.display_name, buyer.home_region.code) == ("New name", "CITY-BJ")
    assert (buyer.is_buyer, buyer.is_seller) == (False, True)

    body = html(
        buyer_client.post(
            "/accounts/settings/", {"display_name": "Kept", "home_region": "CITY-SZ"}
        )
    )
    assert "Choose at least one role." in field_errors(body, "is_buyer")
    assert 'value="Kept"' in body
    buyer.refresh_from_db()
    assert buyer.display_name == "New name"


# --- API keys ----------------------------------------------------------------------


def test_api_key_is_shown_once_and_works(buyer_client, buyer):
    response = buyer_client.post("/accounts/api-keys/", {"name": "market maker"})
    body = html(response)
    assert "no-store" in response["Cache-Control"]
    key = re.search(r'data-testid="new-key">([^<]+)<', body)[1]
    resolved = apikey_resolve(key)
    assert resolved is not None
    assert resolved.user == buyer.user
    assert ApiKey.objects.get().digest != key  # stored only as its hash
    again = html(buyer_client.get("/accounts/api-keys/"))
    assert key not in again
    assert f"{key[:8]}…" in again


def test_api_key_revoke_and_others_keys_are_404(buyer_client, buyer, other):
    buyer_client.post("/accounts/api-keys/", {"name": "bot"})
    mine = ApiKey.objects.get(user=buyer.user)
    logged_in(other).post("/accounts/api-keys/", {"name": "theirs"})
    theirs = ApiKey.objects.get(user=other.user)

    revoke_theirs = buyer_client.post(f"/accounts/api-keys/{theirs.pk}/revoke/")
    assert revoke_theirs.status_code == 404
    response = buyer_client.post(f"/accounts/api-keys/{mine.pk}/revoke/", follow=True)
    assert "Key “bot” revoked." in html(response)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None
    assert theirs.revoked_at is None
    listed = html(buyer_client.get("/accounts/api-keys/"))
    assert f'data-key="{theirs.pk}"' not in listed


def test_api_key_form_errors_keep_input(buyer_client):
    body = html(
        buyer_client.post(
            "/accounts/api-keys/", {"name": "  ", "expires_on": "2000-01-01"}
        )
    )
    assert "This field is required." in field_errors(body, "name")
    assert "Choose a day after today." in field_errors(body, "expires_on")
    assert 'value="2000-01-01"' in body
    assert not ApiKey.objects.exists()


# --- clusters ----------------------------------------------------------------------


def test_cluster_preview_is_count_x_hours_x_factor(seller_client):
    """The preview shows, per profile, count x hours x the chip's factor in the
    current conversion table."""
    factor = ConversionFactor.objects.filter(
        chip__code="nvidia-h100-sxm-80gb", profile__code="train"
    ).latest("table__version")
    body = html(
        seller_client.get(
            "/accounts/clusters/preview/",
            {"chip": "nvidia-h100-sxm-80gb", "count": "8", "hours": "10"},
            **HTMX,
        )
    )
    row = re.search(r'<tr data-profile="train">(.*?)</tr>', body, re.S)[1]
    cells = text(row)
    assert f"{factor.factor * 8:,.1f}" in cells
    assert f"{factor.factor * 80:,.1f}" in cells
    cpu = re.search(r'<tr data-profile="cpu" class="excluded">(.*?)</tr>', body, re.S)
    assert "no factor" in text(cpu[1])


def test_cluster_preview_errors_swap_in_beside_fields(seller_client):
    body = html(
        seller_client.get(
            "/accounts/clusters/preview/",
            {"chip": "nvidia-h100-sxm-80gb", "count": "eight"},
            **HTMX,
        )
    )
    assert 'id="err-count" aria-live="polite" hx-swap-oob="true"' in body
    assert "Enter a whole number." in field_errors(body, "count")


def test_cluster_added_and_errors_keep_input(seller_client, seller):
    data = {
        "name": "WH-H100",
        "region": "CLU-WUHU",
        "chip": "nvidia-h100-sxm-80gb",
        "count": "64",
    }
    response = seller_client.post("/accounts/clusters/", data, follow=True)
    assert "Cluster “WH-H100” added." in html(response)
    cluster = Cluster.objects.get(name="WH-H100")
    assert (cluster.participant, cluster.count) == (seller, 64)

    body = html(seller_client.post("/accounts/clusters/", {**data, "count": "0"}))
    assert "Ensure this value is greater than or equal to 1." in field_errors(
        body, "count"
    )
    assert "You already have a cluster of this name." in field_errors(body, "name")
    assert 'value="WH-H100"' in body
    assert '<option value="CLU-WUHU" selected>' in body


def test_buyer_cannot_add_clusters(buyer_client, buyer):
    body = html(buyer_client.get("/accounts/clusters/"))
    assert "Only providers have clusters." in body
    data = {"name": "x", "region": "CLU-WUHU", "chip": "amd-epyc-9654", "count": "1"}
    buyer_client.post("/accounts/clusters/", data)
    assert not Cluster.objects.filter(participant=buyer).exists()
