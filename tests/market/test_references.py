"""Foreign keys checked per statement (`market.references`): the order path's keys
have no FOREIGN KEY constraint, and PostgreSQL's triggers refuse what the constraint
refused: a child row whose parent is missing, and a parent deleted or re-keyed while
children refer to it, also when the two race."""

import threading
import time
from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, models, transaction

from settlement.models import Account, Hold, JournalEntry, Posting
from tests.factories import ParticipantFactory, UserFactory
from tests.settlement.helpers import deposit

MIGRATION = import_module("settlement.migrations.0005_foreign_keys_per_statement")


def _unconstrained() -> set[tuple[str, str]]:
    return {
        (field.model._meta.label, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.ForeignKey) and not field.db_constraint
    }


def test_every_foreign_key_without_a_constraint_has_its_triggers():
    """A new `foreign_key(...)` field must be added to the migration's list (with a
    migration of its own that installs it): otherwise nothing checks its key."""
    listed = {
        (apps.get_model(label)._meta.label, name) for label, name in MIGRATION.FIELDS
    }
    assert _unconstrained() == listed


@pytest.mark.postgres
@pytest.mark.django_db
def test_each_listed_key_has_its_triggers_installed():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
            "WHERE tgname LIKE '%%_refs_%%'"
        )
        installed = set(cursor.fetchall())
        for label, name in MIGRATION.FIELDS:
            field = apps.get_model(label)._meta.get_field(name)
            table = field.model._meta.db_table
            parent = field.related_model._meta.db_table
            assert {
                (table, f"{table}_refs_inserted"),
                (table, f"{table}_refs_updated"),
                (parent, f"{parent}_refs_deleted"),
                (parent, f"{parent}_refs_rekeyed"),
            } <= installed
            # The insert check locks and counts this very column's parents.
            cursor.execute(
                "SELECT prosrc FROM pg_proc WHERE proname = %s",
                [f"{table}_refs_inserted"],
            )
            source = cursor.fetchone()[0]
            assert (
                f"FROM {parent} p WHERE p.id = ANY "  # noqa: S608
                f"(ARRAY(SELECT DISTINCT {field.column} FROM inserted))"
            ) in source


def _insert_entries(cursor, lines: list[tuple[int, int]], key: str) -> None:
    """One balanced entry per (account, other account) pair, all postings in one
    multi-row INSERT."""
    ids = []
    for i in range(len(lines)):
        cursor.execute(
            "INSERT INTO settlement_journalentry (kind, reference, idempotency_key, "
            "memo, created_at) VALUES ('x', 'x', %s, '', now()) RETURNING id",
            [f"{key}-{i}"],
        )
        ids.append(cursor.fetchone()[0])
    rows = [
        (entry, account, amount)
        for entry, (credit, debit) in zip(ids, lines, strict=True)
        for account, amount in ((credit, 1), (debit, -1))
    ]
    values = ", ".join(["(%s, %s, %s, now())"] * len(rows))
    cursor.execute(
        "INSERT INTO settlement_posting (entry_id, account_id, amount, created_at) "  # noqa: S608
        f"VALUES {values}",
        [value for row in rows for value in row],
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_statement_with_one_missing_parent_among_many_is_refused(catalogue):
    p = ParticipantFactory()
    deposit(p, 10)
    available = Account.objects.get(participant=p, kind="available").pk
    external = Account.objects.get(kind="external").pk
    missing = Account.objects.order_by("-pk").first().pk + 1000
    before = Posting.objects.count()

    with transaction.atomic(), connection.cursor() as cursor:
        _insert_entries(cursor, [(available, external)] * 30, key="ok")
    assert Posting.objects.count() == before + 60

    lines = [(available, external)] * 30 + [(missing, external)]
    with (
        pytest.raises(IntegrityError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        _insert_entries(cursor, lines, key="bad")
    assert "violates reference account_id -> settlement_account" in str(refused.value)
    assert f"Key (account_id)=({missing}) is not present" in str(refused.value)
    assert Posting.objects.count() == before + 60
    assert not JournalEntry.objects.filter(idempotency_key__startswith="bad").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_referenced_parent_cannot_be_deleted_or_rekeyed_but_a_free_one_can(
    catalogue,
):
    p = ParticipantFactory()
    deposit(p, 10)  # postings on p's accounts
    account = Account.objects.get(participant=p, kind="available")
    free = Account.objects.create(participant=ParticipantFactory(), kind="available")

    for sql in (
        "DELETE FROM settlement_account WHERE id = %s",
        "UPDATE settlement_account SET id = -id WHERE id = %s",
    ):
        with (
            pytest.raises(IntegrityError, match="still referenced"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [account.pk])
    assert Account.objects.filter(pk=account.pk).exists()

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM settlement_account WHERE id = %s", [free.pk])
    assert not Account.objects.filter(pk=free.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_changing_a_key_to_a_missing_parent_is_refused_and_to_another_is_not(
    catalogue,
):
    first, second = ParticipantFactory(), ParticipantFactory()
    hold = Hold.objects.create(
        participant=first, kind=Hold.Kind.ORDER, reference="r", instrument="X"
    )
    missing = second.pk + 1000
    with (
        pytest.raises(IntegrityError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE settlement_hold SET participant_id = %s WHERE id = %s",
            [missing, hold.pk],
        )
    assert "violates reference participant_id -> market_participant" in str(
        refused.value
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE settlement_hold SET participant_id = %s WHERE id = %s",
            [second.pk, hold.pk],
        )
    assert Hold.objects.get(pk=hold.pk).participant_id == second.pk


def _waiting(pid: int) -> None:
    """Until the backend `pid` waits for a lock (the race's other side holds it)."""
    with connection.cursor() as cursor:
        for _ in range(500):
            cursor.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid]
            )
            if cursor.fetchone()[0] == "Lock":
                return
            time.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited for a lock")


def _race(first, second) -> list:
    """`first` runs in a transaction and holds it until `second`, in another
    connection, waits for its lock; then `first` commits. Each one's outcome."""
    outcomes: list = [None, None]
    started, pid = threading.Event(), []

    def run_second():
        started.wait(30)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid.append(cursor.fetchone()[0])
            with transaction.atomic(), connection.cursor() as cursor:
                second(cursor)
            outcomes[1] = "committed"
        except Exception as exc:
            outcomes[1] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run_second)
    thread.start()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            first(cursor)
            started.set()
            while not pid:
                time.sleep(0.01)
            _waiting(pid[0])
        outcomes[0] = "committed"
    except Exception as exc:
        outcomes[0] = exc
    finally:
        started.set()
        thread.join(60)
    return outcomes


def _entry_by(user_id: int):
    def insert(cursor):
        cursor.execute(
            "INSERT INTO settlement_journalentry (kind, reference, idempotency_key, "
            "memo, created_at, caused_by_id) VALUES ('x', 'x', 'race', '', now(), %s)",
            [user_id],
        )

    return insert


def _delete_user(user_id: int):
    def delete(cursor):
        cursor.execute("DELETE FROM auth_user WHERE id = %s", [user_id])

    return delete


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_parent_deleted_while_a_child_is_written_is_refused():
    """The child's statement locks its parent: the delete waits for it to commit,
    then sees the child and is refused."""
    user = UserFactory()
    entry, delete = _race(first=_entry_by(user.pk), second=_delete_user(user.pk))
    assert entry == "committed"
    assert isinstance(delete, IntegrityError), delete
    assert "still referenced" in str(delete)
    assert get_user_model().objects.filter(pk=user.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_child_written_while_its_parent_is_deleted_is_refused():
    """The delete goes first: the child's statement waits for the parent's row, finds
    it gone when the delete commits, and is refused (no orphan)."""
    user = UserFactory()
    delete, entry = _race(first=_delete_user(user.pk), second=_entry_by(user.pk))
    assert delete == "committed"
    assert isinstance(entry, IntegrityError), entry
    assert "violates reference caused_by_id -> auth_user" in str(entry)
    assert not JournalEntry.objects.filter(idempotency_key="race").exists()
