"""Forms of the money pages: a deposit request, a withdrawal request, the ledger
filter, and the delivery steps (a provider's report, a buyer's dispute)."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from market.web.forms import DescribedFields, text_decimal
from settlement.deposits import MAX_DEPOSIT
from settlement.models import Account
from settlement.withdrawals import MAX_WITHDRAWAL

LEDGER_ACCOUNTS = [
    ("", _("All accounts")),
    (Account.Kind.AVAILABLE, _("Available")),
    (Account.Kind.HELD, _("Held")),
    (Account.Kind.BOND, _("Bond")),
    (Account.Kind.WITHDRAWAL_PENDING, _("Pending withdrawal")),
]


class DepositForm(DescribedFields, forms.Form):
    amount = forms.DecimalField(
        label=_("Amount (CNY)"),
        min_value=Decimal("0.0001"),
        max_value=MAX_DEPOSIT,
        max_digits=14,
        decimal_places=4,
        widget=text_decimal(),
    )
    note = forms.CharField(
        label=_("Note (optional)"),
        max_length=200,
        required=False,
        help_text=_("e.g. your bank transfer reference."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.describe_fields()


class WithdrawForm(DescribedFields, forms.Form):
    amount = forms.DecimalField(
        label=_("Amount (CNY)"),
        min_value=Decimal("0.0001"),
        max_value=MAX_WITHDRAWAL,
        max_digits=20,
        decimal_places=4,
        widget=text_decimal(),
        help_text=_("At most your available balance."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.describe_fields()


class LedgerFilterForm(forms.Form):
    account = forms.ChoiceField(
        label=_("Account"), choices=LEDGER_ACCOUNTS, required=False
    )


class ReportForm(DescribedFields, forms.Form):
    delivered_quantity = forms.DecimalField(
        label=_("Delivered so far (SCU-h)"),
        min_value=Decimal(0),
        max_digits=16,
        decimal_places=1,
        widget=text_decimal(),
    )

    def __init__(self, *args, quantity: Decimal, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.quantity = quantity
        self.describe_fields()

    def clean_delivered_quantity(self) -> Decimal:
        delivered = self.cleaned_data["delivered_quantity"]
        if delivered > self.quantity:
            raise forms.ValidationError(
                _("At most the traded quantity, %(qty)s SCU-h.")
                % {"qty": self.quantity}
            )
        return delivered


class DisputeForm(DescribedFields, forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.describe_fields()
