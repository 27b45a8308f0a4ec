"""The hot-path SQL helpers write what the ORM would have written."""

import copy
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.db import (
    COPY_FROM,
    Read,
    execute_later,
    ids_read,
    model_columns,
    models_from_rows,
    reads_together,
    row_copy,
    rows_insert,
    rows_update,
    unsaved,
    writes_together,
)
from core.db.rows import _reads_attribute
from core.db.vendor import sends_statements_together
from exchange.models import Order, OrderEvent, Trade
from settlement.models import Account, Hold, JournalEntry, Posting
from tests.factories import ParticipantFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (Hold, {"kind": "order", "reference": "order:1", "amount": Decimal("1.5")}),
        (JournalEntry, {"kind": "hold", "reference": "r", "idempotency_key": "k"}),
        (Posting, {"entry_id": 1, "account_id": 2, "amount": Decimal("-3.0000")}),
        (OrderEvent, {"instrument_id": 1, "sequence": 4, "kind": "accepted"}),
    ],
)
def test_unsaved_is_what_the_constructor_makes(model, values):
    built, made = unsaved(model, **values), model(**values)
    fields = [f.attname for f in model._meta.concrete_fields]
    assert [getattr(built, f) for f in fields] == [getattr(made, f) for f in fields]
    assert built._state.adding
    assert built.pk is None


@pytest.mark.parametrize("saved", [False, True])
def test_row_copy_is_what_copy_copy_makes(saved):
    """Its own values, state and cache of related objects, sharing the related
    objects; changing the copy leaves the original as it was."""
    participant, other = ParticipantFactory(), ParticipantFactory()
    hold = Hold(kind="order", reference="order:9", amount=Decimal("2.5"))
    hold.participant = participant
    if saved:
        hold.save()
    clone, reference = row_copy(hold), copy.copy(hold)
    fields = [f.attname for f in Hold._meta.concrete_fields]
    for twin in (clone, reference):
        assert [getattr(twin, f) for f in fields] == [getattr(hold, f) for f in fields]
        assert twin._state.adding is (not saved)
        assert twin._state.db == hold._state.db
        assert twin._state.fields_cache == hold._state.fields_cache
        assert twin.participant is participant  # from the cache: no query
    clone.amount, clone.participant = Decimal(7), other
    assert hold.amount == Decimal("2.5")
    assert hold.participant is participant
    assert hold.participant_id == participant.pk
    assert clone._state is not hold._state


def _hold_rows(count: int, **columns) -> list[Hold]:
    """Unsaved order holds of one new participant: each column's value for row i is
    `columns[name](i)`."""
    participant = ParticipantFactory()
    return [
        unsaved(
            Hold,
            kind=Hold.Kind.ORDER,
            participant_id=participant.pk,
            **{name: value(i) for name, value in columns.items()},
        )
        for i in range(count)
    ]


@pytest.mark.parametrize("count", [1, COPY_FROM])  # an INSERT, then a COPY
def test_rows_insert_returns_keys_and_writes_values(count):
    rows = _hold_rows(
        count,
        reference=lambda i: f"order:{count}-{i}",
        instrument=lambda _i: "X",
        amount=lambda i: Decimal(f"{i}.25"),
    )
    rows_insert(rows, returning=True)
    assert all(row.pk for row in rows)
    stored = {h.pk: (h.reference, h.amount, h.status) for h in Hold.objects.all()}
    assert stored == {
        row.pk: (row.reference, row.amount, Hold.Status.OPEN) for row in rows
    }
    assert all(h.created_at <= timezone.now() for h in Hold.objects.all())


@pytest.mark.parametrize(
    ("model", "name", "as_is"),
    [
        (Hold, "amount", True),
        (Trade, "executed_at", True),  # a plain DateTimeField
        (Hold, "created_at", False),  # auto_now_add: pre_save stamps it
        (Order, "updated_at", False),  # auto_now
    ],
)
def test_insert_reads_the_attribute_only_where_pre_save_would(model, name, as_is):
    """rows_insert reads a column's values as they are only where the field's
    `pre_save` returns them unchanged; the others go through `pre_save`."""
    assert _reads_attribute(model._meta.get_field(name)) is as_is


def test_rows_update_sets_each_row_its_own_values():
    participant = ParticipantFactory()
    accounts = [
        Account.objects.create(
            kind=kind, participant=participant, balance=Decimal("1.0000")
        )
        for kind in (Account.Kind.AVAILABLE, Account.Kind.HELD, Account.Kind.BOND)
    ]
    for i, account in enumerate(accounts[:2]):
        account.balance = Decimal(f"{i + 7}.1234")
    rows_update(accounts[:2], ["balance"])
    assert {
        a.kind: a.balance for a in Account.objects.filter(participant=participant)
    } == {
        Account.Kind.AVAILABLE: Decimal("7.1234"),
        Account.Kind.HELD: Decimal("8.1234"),
        Account.Kind.BOND: Decimal("1.0000"),  # not in the update
    }


# A write whose result nobody reads back.
ADD_TO_BALANCE = "UPDATE settlement_account SET balance = balance + %s WHERE id = %s"


@pytest.fixture
def account():
    return Account.objects.create(
        kind=Account.Kind.AVAILABLE, participant=ParticipantFactory()
    )


@pytest.mark.postgres
def test_writes_together_go_in_one_round_trip_before_a_read(account):
    update = ADD_TO_BALANCE
    with CaptureQueriesContext(connection) as sent, writes_together():
        execute_later(update, [Decimal(2), account.pk])
        execute_later(update, [Decimal(3), account.pk])
        assert len(sent) == 0  # held back
        read = Account.objects.get(pk=account.pk).balance  # sees both
        execute_later(update, [Decimal(4), account.pk])
    assert read == Decimal(5)
    assert len(sent) == 3  # the two writes together, the read, the last write
    account.refresh_from_db()
    assert account.balance == Decimal(9)


@pytest.mark.parametrize("held_back", [False, True])
def test_a_multi_row_insert_writes_each_row_its_own_values(held_back):
    """Rows inserted without RETURNING (fewer than COPY_FROM: one INSERT) keep their
    values, quotes and NULLs included, whether sent at once or held back and
    composed row by row."""
    rows = _hold_rows(
        COPY_FROM - 1,
        reference=lambda i: f"order:'{i}'; --",
        instrument=lambda i: "" if i % 2 else "X'Y",
        amount=lambda i: Decimal(f"{i}.0005"),
        resolved_at=lambda i: None if i % 2 else timezone.now(),
    )
    with CaptureQueriesContext(connection) as sent:
        if held_back:
            with writes_together():
                rows_insert(rows)
        else:
            rows_insert(rows)
    assert len([q for q in sent if "INSERT" in q["sql"]]) == 1
    stored = {
        h.reference: (h.instrument, h.amount, h.resolved_at) for h in Hold.objects.all()
    }
    assert stored == {
        r.reference: (r.instrument, r.amount, r.resolved_at) for r in rows
    }


@pytest.mark.postgres
def test_a_held_back_write_fails_inside_the_block(account):
    update = ADD_TO_BALANCE
    reached_the_end = []

    def write():
        with transaction.atomic(), writes_together():
            execute_later(update, [Decimal(-1), account.pk])  # below zero: refused
            reached_the_end.append(True)

    with pytest.raises(IntegrityError):
        write()
    assert reached_the_end  # the statement was held back to the end of the block
    account.refresh_from_db()
    assert account.balance == 0


def test_reads_together_answer_each_read_and_build_rows_as_the_orm_does():
    participant = ParticipantFactory()
    account = Account.objects.create(
        kind=Account.Kind.AVAILABLE, participant=participant, balance=Decimal("2.5")
    )
    columns = model_columns(Account)
    one_trip = sends_statements_together()
    with CaptureQueriesContext(connection) as sent:
        got = reads_together(
            {
                "accounts": Read(
                    f"SELECT {columns} FROM settlement_account WHERE id = %s",  # noqa: S608
                    [account.pk],
                    lambda rows: models_from_rows(Account, rows),
                ),
                "keys": ids_read(Hold, 3),
            }
        )
    accounts, keys = got["accounts"], got["keys"]
    if one_trip:
        assert len(sent) == 1
    [read] = accounts
    stored = Account.objects.get(pk=account.pk)
    fields = [f.attname for f in Account._meta.concrete_fields]
    assert [getattr(read, f) for f in fields] == [getattr(stored, f) for f in fields]
    assert not read._state.adding
    assert len(set(keys)) == 3
