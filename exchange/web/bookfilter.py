"""The book seen through a buyer's constraints: the instrument page's depth table
can keep the asks a bid with these constraints could take and say, per row (region
and chip), which constraint rules the others out. The choice is kept in the session,
so the table's polling (which sends only the region) keeps it."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from exchange.exceptions import InvalidOrder
from exchange.services.constraints import constraints_resolve
from exchange.web.forms import chip_label, text_decimal
from market.models import Certification, ChipModel

SESSION_KEY = "book_constraints"


class BookFilterForm(forms.Form):
    chips = forms.MultipleChoiceField(
        label=_("Chips"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    min_memory_gb = forms.IntegerField(
        label=_("Min memory per chip (GB)"), required=False, min_value=1
    )
    confidential = forms.BooleanField(
        label=_("Confidential computing (TEE) required"), required=False
    )
    certifications = forms.MultipleChoiceField(
        label=_("Certifications (all required)"),
        required=False,
        choices=Certification.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    min_reliability = forms.DecimalField(
        label=_("Min provider reliability (0 to 1)"),
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(1),
        max_digits=3,
        decimal_places=2,
        widget=text_decimal(),
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("prefix", "bf")
        super().__init__(*args, **kwargs)
        self.fields["chips"].choices = [
            (c.code, chip_label(c)) for c in ChipModel.objects.order_by("vendor")
        ]

    def constraints(self) -> dict:
        """The constraints chosen, as an order's `constraints` holds them."""
        data = self.cleaned_data
        out: dict = {}
        for name in ("chips", "certifications"):
            if data.get(name):
                out[name] = list(data[name])
        if data.get("min_memory_gb") is not None:
            out["min_memory_gb"] = data["min_memory_gb"]
        if data.get("confidential"):
            out["confidential"] = True
        if data.get("min_reliability") is not None:
            out["min_reliability"] = str(data["min_reliability"])
        return out


def chosen(request) -> tuple[BookFilterForm, dict]:
    """The filter form and the constraints it stands for: what the request sends
    (`bf-apply`; `bf-clear` drops it), else what the session kept."""
    if "bf-clear" in request.GET:
        request.session.pop(SESSION_KEY, None)
        return BookFilterForm(), {}
    if "bf-apply" in request.GET:
        form = BookFilterForm(request.GET)
        constraints = form.constraints() if form.is_valid() else {}
        request.session[SESSION_KEY] = constraints
        return form, constraints
    constraints = request.session.get(SESSION_KEY) or {}
    return BookFilterForm(initial=constraints), constraints


def resolved(constraints: dict) -> dict:
    """Checked against the market; what no longer resolves is dropped."""
    try:
        return constraints_resolve(constraints)
    except InvalidOrder:
        return {}
