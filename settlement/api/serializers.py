"""Input and output serializers of the account, withdrawal and delivery endpoints."""

from decimal import Decimal

from rest_framework import serializers

from market.api.fields import CodeField, StrictCharField, StrictDecimalField
from settlement.models import Account, Obligation, WithdrawalRequest
from settlement.withdrawals import MAX_WITHDRAWAL

MONEY = {"max_digits": 20, "decimal_places": 4}
QTY = {"max_digits": 16, "decimal_places": 1}
PRICE = {"max_digits": 14, "decimal_places": 2}


class AccountOutput(serializers.Serializer):
    currency = serializers.CharField()
    available = serializers.DecimalField(**MONEY)
    held = serializers.DecimalField(**MONEY, help_text="Escrow for open buys.")
    bond = serializers.DecimalField(
        **MONEY, help_text="Collateral for open sells and unsettled trades."
    )
    withdrawal_pending = serializers.DecimalField(
        **MONEY, help_text="Withdrawals requested and not yet paid out."
    )
    in_escrow = serializers.DecimalField(
        **MONEY, help_text="What your unsettled purchases hold in escrow."
    )


class LedgerQuery(serializers.Serializer):
    account = serializers.ChoiceField(
        choices=[(k, k) for k in Account.PARTICIPANT_KINDS], required=False
    )


class PostingOutput(serializers.Serializer):
    id = serializers.IntegerField()
    entry = serializers.IntegerField(source="entry_id")
    account = serializers.CharField(source="account.kind")
    amount = serializers.DecimalField(**MONEY)
    kind = serializers.CharField(source="entry.kind")
    reference = serializers.CharField(source="entry.reference")
    created_at = serializers.DateTimeField()


class WithdrawalQuery(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=WithdrawalRequest.Status.choices, required=False
    )


class WithdrawalInput(serializers.Serializer):
    amount = StrictDecimalField(
        **MONEY,
        min_value=Decimal("0.0001"),
        max_value=MAX_WITHDRAWAL,
        help_text="CNY, at most 4 decimal places; at most your available balance.",
    )


class WithdrawalOutput(serializers.Serializer):
    id = serializers.IntegerField()
    amount = serializers.DecimalField(**MONEY)
    status = serializers.ChoiceField(
        choices=WithdrawalRequest.Status.choices,
        help_text="pending: reserved, waiting for an operator; paid: paid out; "
        "rejected: returned to your available balance.",
    )
    note = serializers.CharField(help_text="The operator's reason for a rejection.")
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class DeliveryQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=Obligation.Status.choices, required=False)
    instrument = CodeField(required=False)
    role = serializers.ChoiceField(choices=["buyer", "seller"], required=False)


class DeliveryOutput(serializers.Serializer):
    trade_id = serializers.IntegerField()
    instrument = serializers.CharField()
    role = serializers.SerializerMethodField()
    quantity = serializers.DecimalField(**QTY)
    price = serializers.DecimalField(**PRICE)
    surcharge = serializers.DecimalField(**PRICE)
    all_in_price = serializers.DecimalField(**PRICE)
    delivered_quantity = serializers.DecimalField(**QTY, allow_null=True)
    status = serializers.ChoiceField(choices=Obligation.Status.choices)
    delivery_start = serializers.DateTimeField()
    delivery_end = serializers.DateTimeField()
    report_deadline = serializers.DateTimeField()
    confirm_deadline = serializers.DateTimeField()
    reported_at = serializers.DateTimeField(allow_null=True)
    confirmed_at = serializers.DateTimeField(allow_null=True)
    disputed_at = serializers.DateTimeField(allow_null=True)
    dispute_reason = serializers.CharField()
    settled_at = serializers.DateTimeField(allow_null=True)

    def get_role(self, obligation) -> str:
        buyer = obligation.buyer_id == self.context["participant_id"]
        return "buyer" if buyer else "seller"


class ReportInput(serializers.Serializer):
    delivered_quantity = StrictDecimalField(
        **QTY, min_value=0, help_text="Cumulative SCU-h delivered (replaces the last)."
    )


class DisputeInput(serializers.Serializer):
    reason = StrictCharField(max_length=2000, required=False, allow_blank=True)


class ProviderOutput(serializers.Serializer):
    code = serializers.CharField(help_text="The provider's public handle.")
    reliability = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        help_text="(delivered + 90) / (sold + 100) SCU-h over 90 days; see "
        "score_method.",
    )
    deliveries = serializers.IntegerField(help_text="Trades counted.")
    delivered_share = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        allow_null=True,
        help_text="Delivered (as counted) over sold SCU-h; null before any trade.",
    )
    disputes_lost = serializers.IntegerField()
    score_method = serializers.SerializerMethodField()

    def get_score_method(self, row) -> str:
        return self.context["score_method"]
