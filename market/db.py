"""Small SQL helpers for the hot paths, where the ORM's query compilation costs more
than the statement itself."""

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model


def rows_insert(objs: Sequence[Model]) -> None:
    """INSERT new rows of one model in one statement (so statement-level checks see
    them all), values prepared the way `save()` prepares them (auto_now_add
    included), without reading back their primary keys: for rows nothing refers to
    later in the same unit of work."""
    if not objs:
        return
    meta = objs[0]._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    table = connection.ops.quote_name(meta.db_table)
    params = [
        f.get_db_prep_save(f.pre_save(obj, True), connection)
        for obj in objs
        for f in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(objs))}",  # noqa: S608
            params,
        )
