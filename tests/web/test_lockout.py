"""Login lockout (market/lockout.py): after ten failed logins for one username, or
from one client address, within the window, the web login, the admin login and the
token endpoint refuse every attempt (429, with the form's message in the user's
language) until the window has passed; names that do not exist are treated exactly
like names that do; a successful login clears the count."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from rest_framework.test import APIClient

from tests.apiclient import error
from tests.exchange.conftest import make_buyer
from tests.web.conftest import chinese, text

pytestmark = pytest.mark.django_db
PASSWORD = "pw-test-123"  # make_buyer's
LOCKED_EN = "Too many failed log-in attempts"
LOCKED_ZH = "登录失败次数过多"


def login(client: Client, username: str, password: str, path="/accounts/login/"):
    return client.post(path, {"username": username, "password": password})


def fail(client: Client, username: str, times: int, path="/accounts/login/"):
    return [login(client, username, "wrong", path).status_code for _ in range(times)]


def test_tenth_failure_locks_and_the_right_password_is_then_refused():
    """Nine wrong passwords answer the usual form error; the tenth answers 429 with
    the lockout message; the right password after it is refused too."""
    buyer = make_buyer()
    client = Client()
    name = buyer.user.username
    assert fail(client, name, 9) == [200] * 9
    tenth = login(client, name, "wrong")
    assert tenth.status_code == 429
    assert LOCKED_EN in text(tenth.content.decode())
    assert int(tenth["Retry-After"]) == 15 * 60
    eleventh = login(client, name, PASSWORD)
    assert eleventh.status_code == 429
    assert LOCKED_EN in text(eleventh.content.decode())
    assert "_auth_user_id" not in client.session


def test_lockout_message_in_chinese():
    client = chinese(Client())
    fail(client, "nobody-here", 10)
    response = login(client, "nobody-here", "wrong")
    assert response.status_code == 429
    assert LOCKED_ZH in text(response.content.decode())


def test_unknown_and_existing_usernames_get_the_same_answers():
    """An attacker learns nothing from the answers: an existing login and a name
    that does not exist give the same statuses and the same messages."""
    buyer = make_buyer()

    def answers(username, ip):
        client = Client(REMOTE_ADDR=ip)
        out = []
        for _ in range(11):
            response = login(client, username, "wrong")
            body = text(response.content.decode()).replace(username, "NAME")
            out.append((response.status_code, body))
        return out

    assert answers(buyer.user.username, "10.0.0.1") == answers("ghost", "10.0.0.2")


def test_one_address_is_locked_across_usernames():
    """Ten failures from one address, each on a different name, lock that address:
    a real user from it is refused, the same user from another address logs in."""
    buyer = make_buyer()
    attacker = Client(REMOTE_ADDR="10.1.1.1")
    for n in range(10):
        login(attacker, f"guess-{n}", "wrong")
    assert login(attacker, buyer.user.username, PASSWORD).status_code == 429
    elsewhere = Client(REMOTE_ADDR="10.1.1.2")
    assert login(elsewhere, buyer.user.username, PASSWORD).status_code == 302


def test_one_username_is_locked_across_addresses():
    """Ten failures on one name, each from a different address, lock that name
    everywhere, even with the right password from a new address."""
    buyer = make_buyer()
    for n in range(10):
        login(Client(REMOTE_ADDR=f"10.2.0.{n}"), buyer.user.username, "wrong")
    fresh = Client(REMOTE_ADDR="10.2.1.1")
    assert login(fresh, buyer.user.username, PASSWORD).status_code == 429
    assert login(fresh, "someone-else", "wrong").status_code == 200


def test_success_resets_the_count():
    buyer = make_buyer()
    name = buyer.user.username
    client = Client()
    assert fail(client, name, 9) == [200] * 9
    assert login(client, name, PASSWORD).status_code == 302
    client = Client()
    assert fail(client, name, 9) == [200] * 9


def test_lockout_ends_when_the_window_has_passed():
    buyer = make_buyer()
    name = buyer.user.username
    client = Client()
    fail(client, name, 10)
    assert login(client, name, PASSWORD).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
    )
    assert login(client, name, PASSWORD).status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3)
def test_limit_comes_from_settings():
    assert fail(Client(), "bot", 4) == [200, 200, 429, 429]


def test_admin_login_is_locked_too():
    operator = get_user_model().objects.create_superuser("ops", "", "pw-op-123")
    client = Client()
    codes = fail(client, "ops", 10, path="/admin/login/")
    assert codes == [200] * 9 + [429]
    response = login(client, operator.username, "pw-op-123", "/admin/login/")
    assert response.status_code == 429
    assert LOCKED_EN in text(response.content.decode())


def test_web_failures_lock_the_token_endpoint():
    """The API's password login is no way around the lockout: it answers 429
    `throttled` with Retry-After, even for the right password."""
    buyer = make_buyer()
    fail(Client(), buyer.user.username, 10)
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": buyer.user.username, "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 429
    assert error(response)["code"] == "throttled"
    assert int(response["Retry-After"]) == 15 * 60


def test_token_endpoint_failures_count_towards_the_lockout():
    buyer = make_buyer()
    api = APIClient()
    body = {"username": buyer.user.username, "password": "wrong"}
    codes = [
        api.post("/api/v1/auth/token/", body, format="json").status_code
        for _ in range(10)
    ]
    assert codes == [400] * 9 + [429]
    assert login(Client(), buyer.user.username, PASSWORD).status_code == 429


def test_token_endpoint_success_resets_the_count():
    buyer = make_buyer()
    api = APIClient()

    def token(password):
        body = {"username": buyer.user.username, "password": password}
        return api.post("/api/v1/auth/token/", body, format="json").status_code

    assert [token("wrong") for _ in range(9)] == [400] * 9
    assert token(PASSWORD) == 201
    assert [token("wrong") for _ in range(9)] == [400] * 9
