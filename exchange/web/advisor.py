"""The advisor's page, "When and where should I run?": a job (size, data, origin,
profile, window, whether it may be split) in a form, the plans from the live books
ranked by what the buyer would pay, and what moving or waiting would save. The
same answer as `GET /api/v1/advisor/`."""

from decimal import Decimal

from django import forms
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from exchange.advisor.advice import advise
from exchange.advisor.plans import Job
from exchange.advisor.reads import Request
from exchange.web.pages import profiles_ordered
from market import selectors as market_selectors
from market.display import local_name
from market.web.forms import text_decimal

DEFAULTS = {"profile": "train", "origin": "CITY-SH", "scu_h": "100", "data_gb": "50"}
PAGE_PLANS = 20


class AdvisorForm(forms.Form):
    profile = forms.ChoiceField(label=_("Workload profile"))
    origin = forms.ChoiceField(label=_("Origin region"))
    scu_h = forms.DecimalField(
        label=_("Compute (SCU-h)"),
        min_value=Decimal("0.1"),
        max_value=Decimal(10_000_000),
        max_digits=9,
        decimal_places=1,
        widget=text_decimal(),
    )
    data_gb = forms.DecimalField(
        label=_("The job's data (GB)"),
        min_value=Decimal(0),
        max_value=Decimal(1_000_000_000),
        max_digits=13,
        decimal_places=3,
        widget=text_decimal(),
    )
    earliest = forms.DateTimeField(
        label=_("Earliest start"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    deadline = forms.DateTimeField(
        label=_("Deadline"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    split = forms.BooleanField(label=_("The job can be split"), required=False)

    def __init__(self, *args, profiles, regions, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.profiles = {p.code: p for p in profiles}
        self.regions = {r.code: r for r in regions}
        self.fields["profile"].choices = [(p.code, local_name(p)) for p in profiles]
        self.fields["origin"].choices = [
            (r.code, f"{local_name(r)} ({r.code})") for r in regions
        ]

    def clean(self):
        data = super().clean()
        earliest, deadline = data.get("earliest"), data.get("deadline")
        if earliest and deadline and deadline <= earliest:
            self.add_error("deadline", _("The deadline must be after the start."))
        return data


def advisor_context(params) -> dict:
    data = params.copy()
    for name, value in DEFAULTS.items():
        data.setdefault(name, value)
    regions = list(market_selectors.region_list())
    form = AdvisorForm(data, profiles=profiles_ordered(), regions=regions)
    if not form.is_valid():
        return {"form": form, "advice": None}
    clean = form.cleaned_data
    profile, origin = form.profiles[clean["profile"]], form.regions[clean["origin"]]
    now = timezone.now()
    request = Request(
        profile=profile,
        origin=origin,
        earliest=clean["earliest"] or now,
        deadline=clean["deadline"],
        data_gb=clean["data_gb"],
        now=now,
    )
    job = Job(
        scu_h=clean["scu_h"],
        data_gb=clean["data_gb"],
        intensity_gb_per_scu_h=profile.data_intensity_gb_per_scu_h,
        split=clean["split"],
    )
    advice = advise(request, job)
    remote = advice.cheapest_remote
    return {
        "form": form,
        "advice": advice,
        "plans": advice.plans[:PAGE_PLANS],
        "origin": origin,
        "profile": profile,
        "job": job,
        "regions": {r.code: r for r in regions},
        "remote": remote,
        "remote_extra": remote.all_in_cost - advice.best.all_in_cost
        if remote and advice.best
        else None,
        "surcharge": remote.legs[0].pair.surcharge if remote else None,
        "data_blocks_remote": advice.data_limits,
    }


@require_safe
def advisor_page(request):
    return render(request, "exchange/advisor.html", advisor_context(request.GET))
