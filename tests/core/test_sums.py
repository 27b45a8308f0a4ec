"""`decimal_sums`: sums of a decimal column per key, exact on either database."""

from decimal import Decimal

import pytest

from core.db import decimal_sums
from settlement.models import Hold
from tests.factories import ParticipantFactory

pytestmark = pytest.mark.django_db


def test_decimal_sums_are_exact_per_key():
    """Amounts of many magnitudes add up to the exact Decimal sum, per key."""
    amounts = {
        ParticipantFactory(): ["0.1000", "0.2000", "99999999999.9999", "0.0001"],
        ParticipantFactory(): ["12345678.1234"] * 7 + ["0.0003"],
    }
    for participant, values in amounts.items():
        for n, value in enumerate(values):
            Hold.objects.create(
                participant=participant,
                kind=Hold.Kind.ORDER,
                reference=f"order:{participant.pk}:{n}",
                instrument="T",
                amount=Decimal(value),
            )
    assert decimal_sums(Hold.objects.all(), by="participant_id", field="amount") == {
        p.pk: sum(map(Decimal, values)) for p, values in amounts.items()
    }
    assert decimal_sums(Hold.objects.none(), by="participant_id", field="amount") == {}
