"""The ledger: balanced entries, stored balances, holds that resolve once, and the
database's own refusal of unbalanced or edited postings (PostgreSQL)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.db.utils import DatabaseError

from settlement.exceptions import HoldAlreadyResolved, InsufficientFunds
from settlement.ledger import Batch, participant_account
from settlement.models import Account, Hold, JournalEntry, Posting
from settlement.services import deposit_post, withdrawal_post
from tests.factories import ParticipantFactory
from tests.settlement.helpers import balance, deposit

pytestmark = pytest.mark.django_db


def test_deposit_credits_available_from_external():
    p = ParticipantFactory()
    deposit(p, "1000.50")
    assert balance(p) == Decimal("1000.5000")
    external = Account.objects.get(kind="external")
    assert external.balance == Decimal("-1000.5000")
    assert Posting.objects.aggregate(s=Sum("amount"))["s"] == 0


def test_deposit_with_same_key_posts_once():
    p = ParticipantFactory()
    for _ in range(3):
        deposit_post(participant=p, amount=Decimal(100), key="bank:tx:77")
    assert balance(p) == Decimal(100)
    assert JournalEntry.objects.filter(idempotency_key="bank:tx:77").count() == 1


def test_withdrawal_beyond_available_is_refused_and_writes_nothing():
    p = ParticipantFactory()
    deposit(p, 50)
    entries = JournalEntry.objects.count()
    with pytest.raises(InsufficientFunds, match=r"short by 0\.0100"):
        withdrawal_post(participant=p, amount=Decimal("50.01"), key="w1")
    assert balance(p) == Decimal(50)
    assert JournalEntry.objects.count() == entries
    withdrawal_post(participant=p, amount=Decimal("50"), key="w2")
    assert balance(p) == 0


@pytest.mark.parametrize("amount", ["0", "-5", "0.00001"])
def test_deposit_amount_must_be_positive_and_on_grid(amount):
    with pytest.raises(Exception, match="positive"):
        deposit_post(participant=ParticipantFactory(), amount=Decimal(amount), key="k")


def test_hold_moves_money_to_held_and_releases_once():
    p = ParticipantFactory()
    deposit(p, 100)
    batch = Batch()
    batch.hold_set(
        kind=Hold.Kind.ORDER,
        reference="order:1",
        participant_id=p.pk,
        instrument="X",
        amount=Decimal(60),
        key="h1",
    )
    batch.commit()
    assert (balance(p), balance(p, "held")) == (Decimal(40), Decimal(60))
    batch = Batch()
    batch.hold_release(
        kind=Hold.Kind.ORDER,
        reference="order:1",
        participant_id=p.pk,
        instrument="X",
        key="r1",
    )
    batch.commit()
    assert (balance(p), balance(p, "held")) == (Decimal(100), Decimal(0))
    assert Hold.objects.get(reference="order:1").status == Hold.Status.RELEASED
    with pytest.raises(HoldAlreadyResolved):
        Batch().hold_release(
            kind=Hold.Kind.ORDER,
            reference="order:1",
            participant_id=p.pk,
            instrument="X",
            key="r2",
        )


def test_hold_beyond_available_is_insufficient_funds():
    p = ParticipantFactory()
    deposit(p, 10)
    batch = Batch()
    batch.hold_set(
        kind=Hold.Kind.ORDER,
        reference="order:2",
        participant_id=p.pk,
        instrument="X",
        amount=Decimal("10.0001"),
        key="h2",
    )
    with pytest.raises(InsufficientFunds):
        batch.commit()
    assert not Hold.objects.filter(reference="order:2").exists()


def test_database_refuses_negative_participant_balance():
    p = ParticipantFactory()
    deposit(p, 5)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(participant=p, kind="available").update(balance=-1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_database_rejects_one_legged_entry(catalogue):
    """A one-legged entry inserted with raw SQL is refused by the trigger."""
    p = ParticipantFactory()
    deposit(p, 10)
    account = Account.objects.get(participant=p, kind="available")

    def one_legged_entry():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO settlement_journalentry (kind, reference, "
                "idempotency_key, memo, created_at) VALUES ('x', 'x', 'raw-1', '', "
                "now()) RETURNING id"
            )
            entry_id = cursor.fetchone()[0]
            cursor.execute(
                "INSERT INTO settlement_posting (entry_id, account_id, amount, "
                "created_at) VALUES (%s, %s, 5, now())",
                [entry_id, account.pk],
            )

    with pytest.raises(DatabaseError, match="unbalanced"):
        one_legged_entry()
    assert not JournalEntry.objects.filter(idempotency_key="raw-1").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE settlement_posting SET amount = amount * 2",
        "DELETE FROM settlement_posting",
        "UPDATE settlement_journalentry SET memo = 'edited'",
        "DELETE FROM settlement_journalentry",
    ],
)
def test_database_refuses_editing_the_ledger(catalogue, sql):
    deposit(ParticipantFactory(), 10)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        connection.cursor().execute(sql)
    assert Posting.objects.aggregate(s=Sum("amount"))["s"] == 0


def test_unbalanced_entry_is_refused_by_the_service():
    from settlement.exceptions import UnbalancedEntry

    p = ParticipantFactory()
    with pytest.raises(UnbalancedEntry):
        Batch().entry(
            kind="x",
            reference="x",
            key="x",
            lines=[(participant_account("available", p.pk), Decimal(1))],
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_database_checks_each_entry_of_a_many_entry_insert(catalogue):
    """Balanced entries pass together; unbalanced entries sink the statement, even
    when the statement as a whole sums to zero, and nothing of it stays."""
    p = ParticipantFactory()
    deposit(p, 10)
    available, external = (
        Account.objects.get(participant=p, kind="available"),
        Account.objects.get(kind="external"),
    )

    def insert(amounts):
        with transaction.atomic(), connection.cursor() as cursor:
            ids = []
            for i in range(len(amounts)):
                cursor.execute(
                    "INSERT INTO settlement_journalentry (kind, reference, "
                    "idempotency_key, memo, created_at) VALUES ('x', 'x', %s, '', "
                    "now()) RETURNING id",
                    [f"raw-{amounts}-{i}"],
                )
                ids.append(cursor.fetchone()[0])
            rows = [
                (entry_id, account.pk, sign * amount)
                for entry_id, (credit, debit) in zip(ids, amounts, strict=True)
                for account, sign, amount in (
                    (available, 1, credit),
                    (external, -1, debit),
                )
            ]
            values = ", ".join(["(%s, %s, %s, now())"] * len(rows))
            columns = "entry_id, account_id, amount, created_at"
            cursor.execute(
                f"INSERT INTO settlement_posting ({columns}) VALUES {values}",  # noqa: S608
                [value for row in rows for value in row],
            )

    before = Posting.objects.count()
    insert([(1, 1), (2, 2)])
    assert Posting.objects.count() == before + 4
    with pytest.raises(DatabaseError, match="unbalanced"):
        insert([(1, 1), (2, 1), (1, 2)])
    assert Posting.objects.count() == before + 4
