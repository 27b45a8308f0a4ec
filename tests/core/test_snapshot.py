"""`consistent_snapshot`: one read-only transaction whose reads all see the same
moment, on either database; inside a transaction already, the caller's."""

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction

from core.db import consistent_snapshot
from tests.factories import UserFactory
from tests.threads import threads_together

User = get_user_model()


def _setting(sql: str):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_consistent_snapshot_refuses_writes_and_leaves_the_connection_as_it_was():
    """A write inside the snapshot is refused; after it, the connection writes
    again and begins its transactions as configured."""
    mode = getattr(connection, "transaction_mode", None)
    with consistent_snapshot():
        assert not User.objects.exists()
        with pytest.raises(DatabaseError), transaction.atomic():
            UserFactory()
    assert not connection.in_atomic_block
    assert getattr(connection, "transaction_mode", None) == mode
    UserFactory()
    with transaction.atomic():
        UserFactory()
    assert User.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_consistent_snapshot_is_repeatable_read_and_read_only_on_postgresql():
    with consistent_snapshot():
        assert _setting("SHOW transaction_isolation") == "repeatable read"
        assert _setting("SHOW transaction_read_only") == "on"
    assert _setting("SHOW transaction_read_only") == "off"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_consistent_snapshot_does_not_see_what_commits_after_its_first_read():
    """Another connection commits a row between two reads of the snapshot: the
    second read does not see it; a read after the snapshot does."""
    with consistent_snapshot():
        before = User.objects.count()
        made = threads_together(1, lambda _i: UserFactory().pk)
        assert not isinstance(made[0], Exception), made
        assert User.objects.count() == before
    assert User.objects.count() == before + 1


@pytest.mark.django_db
def test_consistent_snapshot_inside_a_transaction_is_that_transaction():
    """Its isolation cannot change once it has read: the caller's transaction is
    the snapshot, and the block sees what it wrote."""
    user = UserFactory()
    with consistent_snapshot():
        assert User.objects.filter(pk=user.pk).exists()
    assert connection.in_atomic_block
