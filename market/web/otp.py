"""The second factor of staff (django-otp, TOTP). config.middleware sends a staff
user who has not entered a code in this session here before the admin answers
anything. With a device they enter its current code; without one they enrol: the
page shows a new secret and its otpauth:// URI for an authenticator app and asks for
the first code, which confirms the device. Nobody who already has a device can enrol
another here, so a stolen password alone adds no device. Each wrong code in a row
doubles the wait before the next is checked (django-otp's throttling), and a code is
accepted once.

Staff sessions are also shorter: STAFF_SESSION_AGE seconds from the login, however
busy (`staff_session_shorten`, connected to user_logged_in by config.apps).
"""

import math
from base64 import b32encode
from datetime import timedelta
from urllib.parse import urlencode

import django_otp
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_totp.models import TOTPDevice

# From this many wrong codes in a row the page says how long to wait.
SHOW_WAIT_AFTER = 3


class CodeForm(forms.Form):
    otp_token = forms.CharField(
        label=gettext_lazy("One-time code"),
        max_length=8,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
            }
        ),
        help_text=gettext_lazy("The 6 digits your authenticator app shows now."),
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def otp_verify(request):
    device = TOTPDevice.objects.devices_for_user(request.user).first()
    if device is None:
        return _redirect_keeping_next("otp-setup", request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["otp_token"]
        if django_otp.verify_token(request.user, device.persistent_id, token):
            return _verified(request, device)
        device.refresh_from_db()
        form.add_error("otp_token", _refusal(device))
    return render(request, "accounts/otp_verify.html", {"form": form})


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def otp_setup(request):
    user = request.user
    if not user.is_staff:  # participants have no second factor (yet)
        raise Http404("Only staff enrol a device.")
    if django_otp.user_has_device(user):
        return _redirect_keeping_next("otp-verify", request)
    device = device_enrolment(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        confirmed = device_confirm(
            device_id=device.pk, token=form.cleaned_data["otp_token"]
        )
        if confirmed is not None:
            return _verified(request, confirmed)
        device.refresh_from_db()
        form.add_error("otp_token", _refusal(device))
    context = {
        "form": form,
        "secret": b32encode(device.bin_key).decode(),
        "otpauth_uri": device.config_url,
    }
    return render(request, "accounts/otp_setup.html", context)


def device_enrolment(*, user) -> TOTPDevice:
    """The user's device being enrolled (unconfirmed), created on first need:
    reloading the page keeps the secret the app may already hold."""
    pending = TOTPDevice.objects.devices_for_user(user, confirmed=False)
    return pending.order_by("pk").first() or TOTPDevice.objects.create(
        user=user, name="admin", confirmed=False
    )


@transaction.atomic(durable=True)
def device_confirm(*, device_id: int, token: str) -> TOTPDevice | None:
    """Confirm an enrolling device with a code it generates; None if the code is
    wrong or another request confirmed it first (the row lock orders them)."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(pk=device_id, confirmed=False)
        .first()
    )
    if device is None or not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device


def staff_session_shorten(sender, request, user, **kwargs) -> None:
    """user_logged_in: a staff session ends STAFF_SESSION_AGE seconds after the
    login; participants keep SESSION_COOKIE_AGE."""
    if user.is_staff and request is not None and hasattr(request, "session"):
        expiry = timezone.now() + timedelta(seconds=settings.STAFF_SESSION_AGE)
        request.session.set_expiry(expiry)


def _verified(request, device) -> HttpResponseRedirect:
    request.session.cycle_key()  # a session that gains the admin gets a new key
    django_otp.login(request, device)
    target = request.POST.get("next") or request.GET.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return HttpResponseRedirect(target if safe else reverse("admin:index"))


def _redirect_keeping_next(name: str, request) -> HttpResponseRedirect:
    query = urlencode({"next": request.GET["next"]}) if "next" in request.GET else ""
    return HttpResponseRedirect(f"{reverse(name)}?{query}" if query else reverse(name))


def _refusal(device: TOTPDevice) -> str:
    allowed, details = device.verify_is_allowed()
    count = device.throttling_failure_count
    if allowed or count < SHOW_WAIT_AFTER or not details.get("locked_until"):
        return _("That code is not right. Enter the code your app shows now.")
    seconds = math.ceil((details["locked_until"] - timezone.now()).total_seconds())
    return _(
        "%(count)d wrong codes in a row: wait %(seconds)d seconds, then enter the "
        "code your app shows."
    ) % {"count": count, "seconds": max(1, seconds)}
