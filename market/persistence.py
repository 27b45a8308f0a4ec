"""The catalogue's own SQL: clusters locked with their chip counts and read with
what an operator verified of them (all that can change on a cluster once orders name
it; once per sell, under the instrument's lock), and an API key with its owner
(every API request). Plain SQL where the ORM's query compilation costs more than
the statement."""

import functools

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections

from core.db import Read, for_update, read_now, values_from_rows
from market.models import ApiKey, Cluster, Participant, Region, RegionSuspension


def clusters_count_read(cluster_ids: set[int]) -> Read:
    """Lock clusters in primary-key order and read the chips their sells may commit
    (`Cluster.sellable_count`): {cluster id: count}; a deleted cluster is missing."""
    marks = ", ".join(["%s"] * len(cluster_ids))
    sql = (
        f"SELECT id, count, verified_count FROM {Cluster._meta.db_table} "  # noqa: S608
        f"WHERE id IN ({marks}) ORDER BY id{for_update()}"
    )

    def parse(rows: list) -> dict[int, int]:
        return {
            pk: Cluster(count=count, verified_count=checked).sellable_count
            for pk, count, checked in rows
        }

    return Read(sql, sorted(cluster_ids), parse)


def clusters_verified_read(cluster_ids: set[int]) -> Read:
    """What an operator verified of the clusters, read after their lock:
    {cluster id: (verified, confidential, certifications)}; a deleted cluster is
    missing."""
    meta = Cluster._meta
    fields = [
        meta.get_field(name)
        for name in (
            "id",
            "verified_at",
            "verified_confidential",
            "verified_certifications",
        )
    ]
    marks = ", ".join(["%s"] * len(cluster_ids))
    sql = (
        "SELECT id, verified_at, verified_confidential, verified_certifications "  # noqa: S608
        f"FROM {meta.db_table} WHERE id IN ({marks})"
    )

    def parse(rows: list) -> dict[int, tuple]:
        return {
            pk: (at is not None, bool(confidential), certifications)
            for pk, at, confidential, certifications in values_from_rows(rows, fields)
        }

    return Read(sql, sorted(cluster_ids), parse)


def regions_suspended_read() -> Read:
    """The regions suspended now: {region id: reason}. Read after the instruments'
    lock, so a suspension that committed before it is seen (a suspension takes the
    same locks to cancel the region's sells)."""
    table = RegionSuspension._meta.db_table
    sql = f"SELECT region_id, reason FROM {table} WHERE ended_at IS NULL"  # noqa: S608

    def parse(rows: list) -> dict[int, str]:
        return dict(rows)

    return Read(sql, (), parse)


def apikey_with_owner(digest: str) -> ApiKey | None:
    """The key's row with its user, the user's participant (None when the user is
    not one) and the participant's home region, related as
    `select_related("user", "user__participant__home_region")` relates them, from
    one plain SELECT (every API request: the ORM's compiler cost more than the
    query)."""
    sql, fields, models = _owner_select()
    rows = read_now(Read(sql, [digest]))
    if not rows:
        return None
    values = values_from_rows(rows, fields)[0]
    alias, made, start = connections[DEFAULT_DB_ALIAS].alias, [], 0
    for model, names in models:
        row = values[start : start + len(names)]
        start += len(names)
        made.append(None if row[0] is None else model.from_db(alias, names, row))
    api_key, user, participant, region = made
    ApiKey._meta.get_field("user").set_cached_value(api_key, user)
    User = get_user_model()
    User._meta.get_field("participant").set_cached_value(user, participant)
    if participant is not None:
        Participant._meta.get_field("user").set_cached_value(participant, user)
        Participant._meta.get_field("home_region").set_cached_value(participant, region)
    return api_key


@functools.cache
def _owner_select() -> tuple[str, list, list]:
    """`apikey_with_owner`'s SELECT (every column of the four tables, in order), its
    fields, and each model with its attribute names."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    tables = [
        ("k", ApiKey),
        ("u", get_user_model()),
        ("p", Participant),
        ("r", Region),
    ]
    fields = [f for _a, model in tables for f in model._meta.concrete_fields]
    columns = ", ".join(
        f"{a}.{quote(f.column)}"
        for a, model in tables
        for f in model._meta.concrete_fields
    )
    t = {a: quote(model._meta.db_table) for a, model in tables}
    sql = (
        f"SELECT {columns} FROM {t['k']} k "  # noqa: S608
        f"JOIN {t['u']} u ON u.id = k.user_id "
        f"LEFT JOIN {t['p']} p ON p.user_id = u.id "
        f"LEFT JOIN {t['r']} r ON r.id = p.home_region_id "
        "WHERE k.digest = %s"
    )
    models = [
        (model, [f.attname for f in model._meta.concrete_fields])
        for _a, model in tables
    ]
    return sql, fields, models
