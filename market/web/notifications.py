"""The notifications page: what a participant is told and how (e-mail, a signed
webhook), its signing secret (shown once, on the answer that made it), and the
log of what was sent, with every attempt."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from market.exceptions import MarketError
from market.models import NotificationCategory, NotificationDelivery
from market.notifications import services
from market.notifications.addresses import UnsafeWebhookUrl, webhook_target
from market.web.access import participant_required
from market.web.forms import DescribedFields

LOG_ROWS = 50


class NotificationsForm(DescribedFields, forms.Form):
    categories = forms.MultipleChoiceField(
        label=gettext_lazy("Tell me about"),
        required=False,
        choices=NotificationCategory.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    email_enabled = forms.BooleanField(
        label=gettext_lazy("Send e-mail"), required=False
    )
    email = forms.EmailField(label=gettext_lazy("E-mail address"), required=False)
    webhook_enabled = forms.BooleanField(
        label=gettext_lazy("Call my webhook"), required=False
    )
    webhook_url = forms.URLField(
        label=gettext_lazy("Webhook URL"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=gettext_lazy(
            "A public https:// address. Each event is POSTed as JSON, signed with "
            "your secret (header Yiwang-Signature)."
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.describe_fields()

    def clean_webhook_url(self) -> str:
        url = self.cleaned_data["webhook_url"]
        if url:
            try:
                webhook_target(url)
            except UnsafeWebhookUrl as exc:
                raise forms.ValidationError(exc.message) from exc
        return url

    def clean(self):
        data = super().clean() or {}
        missing = [
            (name, message)
            for switch, name, message in (
                ("email_enabled", "email", _("Give the address to send e-mail to.")),
                ("webhook_enabled", "webhook_url", _("Give the URL to call.")),
            )
            if data.get(switch) and not data.get(name) and name not in self.errors
        ]
        for name, message in missing:
            self.add_error(name, message)
        return data


def _initial(found) -> dict:
    return {
        "categories": found.categories,
        "email_enabled": found.email_enabled,
        "email": found.email,
        "webhook_enabled": found.webhook_enabled,
        "webhook_url": found.webhook_url,
    }


@require_http_methods(["GET", "HEAD", "POST"])
@participant_required
def notifications(request, participant):
    """The settings and the log; a secret made by saving is shown on this answer
    only (never stored in the page, never cached)."""
    found = services.settings_of(participant)
    form = NotificationsForm(request.POST or None, initial=_initial(found))
    secret = None
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic(durable=True):
                found, secret = services.settings_update(
                    participant=participant,
                    language=get_language(),
                    **form.cleaned_data,
                )
        except MarketError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your notification settings are saved."))
            if secret is None:
                return redirect("notifications")
    return _page(request, participant, form, found, secret)


@require_POST
@participant_required
def notifications_secret(request, participant):
    """A new signing secret: the old one stops working at once."""
    with transaction.atomic(durable=True):
        secret = services.secret_rotate(participant=participant)
    found = services.settings_of(participant)
    form = NotificationsForm(initial=_initial(found))
    return _page(request, participant, form, found, secret)


def _page(request, participant, form, found, secret):
    log = (
        NotificationDelivery.objects.filter(notification__participant=participant)
        .select_related("notification")
        .prefetch_related("attempt_log")
        .order_by("-pk")[:LOG_ROWS]
    )
    context = {
        "form": form,
        "found": found,
        "secret": secret,
        "log": log,
        "retry_base": settings.NOTIFICATIONS_RETRY_BASE_SECONDS,
        "max_attempts": settings.NOTIFICATIONS_MAX_ATTEMPTS,
    }
    response = render(request, "accounts/notifications.html", context)
    add_never_cache_headers(response)
    return response
