"""Settlement's own SQL: the accounts' snapshot and locks, balances moved by their
postings' sums, and holds locked by (kind, reference). Plain SQL where the ORM's
query compilation costs more than the statement (these run once per order command);
the backend differences are core.db's."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import DatabaseError, connection

from core.db import (
    Read,
    add_by_id,
    execute_later,
    for_update,
    lock_later,
    pairs_in,
    reads_together,
    values_from_rows,
)
from settlement.models import Account, Hold, Obligation, ProviderScore
from settlement.money import CENT4

# (kind, participant id or None, instrument symbol or "")
type AccountKey = tuple[str, int | None, str]

_COLUMNS = ["id", "kind", "participant_id", "instrument", "balance"]


def accounts_read(participant_ids: set[int]) -> Read:
    """The participants' own accounts (available, held, bond) that exist, read
    without a lock: {account key: Account}."""
    marks = ", ".join(["%s"] * len(participant_ids))
    kinds = ", ".join(["%s"] * len(Account.TRADING_KINDS))
    sql = (
        f"SELECT {', '.join(_COLUMNS)} FROM {Account._meta.db_table} "  # noqa: S608
        f"WHERE participant_id IN ({marks}) AND kind IN ({kinds})"
    )
    return Read(
        sql,
        [*sorted(participant_ids), *Account.TRADING_KINDS],
        _accounts_from_rows,
    )


def accounts_lock_read(keys: set[AccountKey]) -> Read:
    """The accounts of `keys` that exist, locked in primary-key order (the order
    every lock on accounts takes, so two commands never deadlock on them)."""
    conditions, params = [], []
    for kind, participant_id, instrument in sorted(keys, key=_key_order):
        owner = "participant_id " + ("IS NULL" if participant_id is None else "= %s")
        conditions.append(f"(kind = %s AND {owner} AND instrument = %s)")
        params += [kind, *([] if participant_id is None else [participant_id])]
        params.append(instrument)
    sql = (
        f"SELECT {', '.join(_COLUMNS)} FROM {Account._meta.db_table} "  # noqa: S608
        f"WHERE {' OR '.join(conditions)} ORDER BY id{for_update()}"
    )
    return Read(sql, params, _accounts_from_rows)


def accounts_lock_later(ids: list[int]) -> None:
    """Lock accounts in key order, with the writes held back after it."""
    lock_later(Account._meta.db_table, ids)


def balances_move_later(
    sums: dict[int, Decimal], errors: Callable[[DatabaseError], Exception | None]
) -> None:
    """Move locked accounts' balances by these sums (account id -> sum); `errors`
    answers the database's refusal (its CHECK on negative balances)."""
    places = Account._meta.get_field("balance").decimal_places
    sql, params = add_by_id(Account._meta.db_table, "balance", sums, places)
    execute_later(sql, params, errors=errors)


def holds_for_update(slots: list[tuple[str, str]]) -> list[Hold]:
    """The holds of these (kind, reference) slots that exist, locked in key order."""
    join, params = pairs_in("h", ("kind", "reference"), slots)
    sql = (
        f"SELECT h.* FROM {Hold._meta.db_table} h {join} "  # noqa: S608
        f"ORDER BY h.id{for_update(of='h')}"
    )
    return list(Hold.objects.raw(sql, params))


def decimal_from_db(value) -> Decimal:
    """A balance read in plain SQL, as the ORM's converter gives it (SQLite may
    answer a float or an int, which the converter would have quantized)."""
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value)).quantize(CENT4)


def _accounts_from_rows(rows: list) -> dict[AccountKey, Account]:
    db = connection.alias
    accounts = [
        Account.from_db(db, _COLUMNS, (*row[:4], decimal_from_db(row[4])))
        for row in rows
    ]
    return {(a.kind, a.participant_id, a.instrument): a for a in accounts}


def _key_order(key: AccountKey) -> tuple:
    kind, participant_id, instrument = key
    return (kind, participant_id or 0, instrument)


def delivered_quantity_select(trade_id_sql: str) -> tuple[str, object]:
    """A scalar subquery of the delivered quantity settlement knows of the trade
    whose key is the SQL expression `trade_id_sql` (NULL until reported), and the
    field that converts its value."""
    quote = connection.ops.quote_name
    meta = Obligation._meta
    field = meta.get_field("delivered_quantity")
    sql = (
        f"SELECT ob.{quote(field.column)} FROM {quote(meta.db_table)} ob "  # noqa: S608
        f"WHERE ob.{quote(meta.get_field('trade_id').column)} = {trade_id_sql} LIMIT 1"
    )
    return sql, field


def accounts_for_update(
    keys: set[AccountKey], also: Read
) -> tuple[dict[AccountKey, Account], Any]:
    """Lock the accounts in one statement ordered by primary key, creating the missing
    ones first (ignoring a concurrent insert of the same account), and make `also`,
    a read sent in the same round trip after the lock: (accounts, what it read).
    Caller holds a transaction."""
    if not keys:
        return {}, reads_together({"also": also})["also"]
    got = reads_together({"accounts": accounts_lock_read(keys), "also": also})
    accounts = got["accounts"]
    missing = keys - accounts.keys()
    if missing:
        Account.objects.bulk_create(
            [Account(kind=k, participant_id=p, instrument=i) for k, p, i in missing],
            ignore_conflicts=True,
        )
        accounts = reads_together({"accounts": accounts_lock_read(keys)})["accounts"]
    return accounts, got["also"]


def reliability_read(participant_ids: set[int]) -> Read:
    """The providers' current reliability scores: {participant id: score}; a
    provider without one (new) is missing."""
    meta = ProviderScore._meta
    marks = ", ".join(["%s"] * len(participant_ids))
    fields = [meta.get_field("participant"), meta.get_field("reliability")]
    sql = (
        f"SELECT participant_id, reliability FROM {meta.db_table} "  # noqa: S608
        f"WHERE participant_id IN ({marks})"
    )
    return Read(
        sql, sorted(participant_ids), lambda rows: dict(values_from_rows(rows, fields))
    )
