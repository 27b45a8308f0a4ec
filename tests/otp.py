"""Staff logins that have passed the second factor, as the admin requires
(config.middleware.StaffSecondFactorMiddleware): a confirmed TOTP device per user,
the test client's session marked verified by it, and the current code for a
browser to type."""

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def device_of(user) -> TOTPDevice:
    """The user's confirmed TOTP device, created if it has none."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def code_of(device: TOTPDevice) -> str:
    """The code the device's authenticator app shows now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def login_verified(client: Client, user) -> Client:
    """`client.force_login(user)`, with the session verified by the user's device."""
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device_of(user).persistent_id
    session.save()
    return client


def enter_code(page, user) -> None:
    """In a browser just logged in to the admin: type the device's current code on
    the page the admin sent it to."""
    page.locator("#id_otp_token").fill(code_of(device_of(user)))
    page.get_by_role("button", name="Verify").click()
