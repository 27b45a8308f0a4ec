"""Account pages: sign-up, log-in and log-out (Django's auth views), settings, API
keys and a provider's clusters. Thin: a form validates, a service writes inside the
view's durable transaction, the page renders."""

from datetime import date, datetime, time

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import LoginView, LogoutView
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from market import apikeys, lockout
from market import services as market_services
from market.exceptions import MarketError
from market.models import ApiKey
from market.models.participants import certifications_text
from market.web import forms, pages, services
from market.web.access import participant_required
from market.web.pages import DEFAULT_PREVIEW_HOURS

CLUSTER_PREVIEW_FIELDS = ("chip", "count", "hours")
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class SignInView(LoginView):
    """Django's login, with the lockout of market/web/lockout.py (429 once locked)."""

    template_name = "accounts/login.html"
    authentication_form = lockout.LoginForm
    redirect_authenticated_user = True


class SignOutView(LogoutView):
    pass


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("funds:balances")
    form = forms.SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        is_buyer, is_seller = form.roles
        try:
            with transaction.atomic(durable=True):
                participant = services.participant_signup(
                    user=form.save(commit=False),
                    display_name=form.cleaned_data["display_name"],
                    is_buyer=is_buyer,
                    is_seller=is_seller,
                    home_region=form.cleaned_data["home_region"],
                )
        except IntegrityError:  # the same username, a moment earlier
            form.add_error("username", _("This username was just taken."))
        else:
            # Named: axes' lockout backend comes first and logs nobody in.
            login(request, participant.user, backend=MODEL_BACKEND)
            messages.success(
                request, _("Welcome to Yiwang. Deposit funds to start trading.")
            )
            return redirect("funds:deposit")
    return render(request, "accounts/signup.html", {"form": form})


@require_http_methods(["GET", "HEAD", "POST"])
@participant_required
def account_settings(request, participant):
    form = forms.SettingsForm(request.POST or None, instance=participant)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic(durable=True):
            services.participant_update(
                participant=participant,
                **{f: form.cleaned_data[f] for f in forms.SettingsForm.Meta.fields},
            )
        messages.success(request, _("Your settings are saved."))
        return redirect("account-settings")
    return render(request, "accounts/settings.html", {"form": form})


@require_http_methods(["GET", "HEAD", "POST"])
@participant_required
def api_keys(request, participant):
    """The key list; a created key is shown once, on the answer to the POST (never
    stored, never cached)."""
    form = forms.ApiKeyForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        expires = form.cleaned_data["expires_on"]
        try:
            with transaction.atomic(durable=True):
                created = apikeys.apikey_create(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    expires_at=None if expires is None else _start_of(expires),
                )
        except apikeys.TooManyKeys as exc:
            form.add_error(
                None,
                _(
                    "You already have %(cap)d live keys, the most allowed. Revoke "
                    "one you no longer use to create another."
                )
                % {"cap": exc.cap},
            )
        else:
            form = forms.ApiKeyForm()
    context = {**pages.api_keys_context(user=request.user), "form": form}
    response = render(
        request, "accounts/api_keys.html", {**context, "created": created}
    )
    add_never_cache_headers(response)
    return response


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(0)))


@require_POST
@participant_required
def api_key_revoke(request, participant, key_id: int):
    if not ApiKey.objects.filter(pk=key_id, user=request.user).exists():
        raise Http404("No such key.")
    with transaction.atomic(durable=True):
        key = apikeys.apikey_revoke(user=request.user, key_id=key_id)
    messages.success(request, _("Key “%(name)s” revoked.") % {"name": key.name})
    return redirect("api-keys")


@require_http_methods(["GET", "HEAD", "POST"])
@participant_required
def clusters(request, participant):
    form = forms.ClusterForm(request.POST or None, participant=participant)
    if request.method == "POST" and participant.is_seller and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic(durable=True):
                cluster = market_services.cluster_create(
                    participant=participant,
                    name=data["name"],
                    region=data["region"],
                    chip=data["chip"],
                    count=data["count"],
                    confidential=data["confidential"],
                    certifications=certifications_text(data["certifications"]),
                )
        except (MarketError, IntegrityError):
            form.add_error(None, _("The cluster could not be added; check the fields."))
        else:
            messages.success(
                request,
                _(
                    "Cluster “%(name)s” added. It can sell once an operator has "
                    "verified its region, chips and count."
                )
                % {"name": cluster.name},
            )
            return redirect("clusters")
    context = {
        **pages.clusters_context(participant=participant),
        "form": form,
        "preview": _preview(form),
    }
    return render(request, "accounts/clusters.html", context)


@require_safe
@participant_required
def cluster_preview(request, participant):
    """The SCU-h preview of the cluster being typed, with the errors of the fields
    it depends on swapped in beside them."""
    form = forms.ClusterForm(request.GET, participant=participant)
    form.is_valid()
    context = {"form": form, "preview": _preview(form), "oob": True}
    return render(request, "accounts/_cluster_preview.html", context)


def _preview(form: forms.ClusterForm) -> dict | None:
    if not form.is_bound:
        return None
    data = getattr(form, "cleaned_data", {})
    if not all(data.get(f) for f in ("chip", "count")):
        return None
    hours = data.get("hours") or DEFAULT_PREVIEW_HOURS
    return pages.cluster_preview(chip=data["chip"], count=data["count"], hours=hours)
