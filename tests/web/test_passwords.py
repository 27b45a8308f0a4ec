"""Password change (logged in, through Django's validators) and reset by e-mail, in
English and Chinese; the reset page does not tell which addresses have accounts."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from tests.web.conftest import chinese, html, text

pytestmark = pytest.mark.django_db
OLD = "pw-test-123"  # make_buyer's
NEW = "Western-compute-2027"


def change(client, old=OLD, new=NEW, again=None):
    data = {"old_password": old, "new_password1": new, "new_password2": again or new}
    return client.post("/accounts/password/", data)


def test_change_password_keeps_the_session(buyer_client, buyer):
    response = change(buyer_client)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/settings/"
    body = text(html(buyer_client.get("/accounts/settings/")))
    assert "Your password has been changed." in body
    buyer.user.refresh_from_db()
    assert buyer.user.check_password(NEW)
    assert not buyer.user.check_password(OLD)


def test_change_password_checks_the_old_one_and_the_validators(buyer_client, buyer):
    wrong_old = text(html(change(buyer_client, old="nope")))
    assert "Your old password was entered incorrectly." in wrong_old
    weak = text(html(change(buyer_client, new="12345678")))
    assert "This password is too common." in weak
    assert "This password is entirely numeric." in weak
    mismatch = text(html(change(buyer_client, again="Western-compute-2028")))
    assert "The two password fields didn" in mismatch
    buyer.user.refresh_from_db()
    assert buyer.user.check_password(OLD)


def test_change_password_in_chinese(buyer_client):
    page = text(html(chinese(buyer_client).get("/accounts/password/")))
    assert "修改密码" in page
    weak = text(html(change(buyer_client, new="12345678")))
    assert "这个密码太常见了。" in weak


def test_change_password_needs_a_login():
    response = Client().get("/accounts/password/")
    assert response["Location"] == "/accounts/login/?next=/accounts/password/"


def test_settings_and_login_link_the_password_pages(buyer_client):
    assert 'href="/accounts/password/"' in html(buyer_client.get("/accounts/settings/"))
    assert 'href="/accounts/password/reset/"' in html(Client().get("/accounts/login/"))


def _reset_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", message.body)[
        1
    ]


def test_reset_by_email_sets_a_new_password(buyer):
    buyer.user.email = "lab@example.com"
    buyer.user.save()
    client = Client()
    response = client.post("/accounts/password/reset/", {"email": "lab@example.com"})
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert len(mail.outbox) == 1
    assert buyer.user.username in mail.outbox[0].body
    form_url = client.get(_reset_link(mail.outbox[0]))["Location"]
    weak = text(
        html(client.post(form_url, {"new_password1": "123", "new_password2": "123"}))
    )
    assert "This password is too short." in weak
    done = client.post(form_url, {"new_password1": NEW, "new_password2": NEW})
    assert done["Location"] == "/accounts/login/"
    login = {"username": buyer.user.username, "password": NEW}
    assert Client().post("/accounts/login/", login).status_code == 302
    used = text(html(client.get(_reset_link(mail.outbox[0]), follow=True)))
    assert "This link is invalid or has already been used." in used


def test_reset_answers_the_same_for_an_unknown_address(buyer):
    response = Client().post("/accounts/password/reset/", {"email": "no@example.com"})
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []


def test_reset_pages_in_chinese(buyer):
    client = chinese(Client())
    assert "重置密码" in text(html(client.get("/accounts/password/reset/")))
    client.post("/accounts/password/reset/", {"email": "x@example.com"})
    assert "请查收" in text(html(client.get("/accounts/password/reset/sent/")))


def test_signup_takes_an_optional_email():
    data = {
        "username": "gene-lab",
        "email": "gene@example.com",
        "password1": NEW,
        "password2": NEW,
        "display_name": "Gene lab",
        "role": "buyer",
        "home_region": "CITY-HZ",
    }
    assert Client().post("/accounts/signup/", data).status_code == 302
    assert get_user_model().objects.get(username="gene-lab").email == data["email"]
