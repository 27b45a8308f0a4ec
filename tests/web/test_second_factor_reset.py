"""A staff login that lost its authenticator: a supervisor (permission
`market.reset_second_factor`) removes its TOTP devices with a reason, audited; the
login then has to enrol a new device before the admin shows it anything. Without
the permission the action does nothing, and nobody resets their own."""

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from market.models import AuditEntry
from tests.operators import client_of, staff
from tests.otp import device_of

pytestmark = pytest.mark.django_db
USERS = "/admin/auth/user/"


def reset(client, *users, reason="lost phone"):
    return client.post(
        USERS,
        {
            "action": "reset_second_factor",
            "_selected_action": [u.pk for u in users],
            "reason": reason,
        },
    )


def test_a_supervisor_resets_a_lost_device_and_the_login_enrols_again():
    lost = staff("op-lost", "operator")
    device_of(lost)
    supervisor = staff("sup-1", "supervisor")
    reset(client_of(supervisor), lost)
    assert not TOTPDevice.objects.filter(user=lost).exists()
    entry = AuditEntry.objects.get(action="user.reset_second_factor")
    assert (entry.operator, entry.target_id, entry.reason) == (
        supervisor,
        str(lost.pk),
        "lost phone",
    )
    client = Client()  # logged in by password: no device to give a code with
    client.force_login(lost)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/otp/setup/")


def test_without_the_permission_or_a_reason_or_for_oneself_nothing_happens():
    lost = staff("op-lost", "operator")
    device_of(lost)
    reset(client_of(staff("op-2", "operator")), lost)
    supervisor = staff("sup-1", "supervisor")
    reset(client_of(supervisor), lost, reason="")
    reset(client_of(supervisor), supervisor)
    assert TOTPDevice.objects.filter(user=lost).exists()
    assert TOTPDevice.objects.filter(user=supervisor).exists()
    assert not AuditEntry.objects.filter(action="user.reset_second_factor").exists()
