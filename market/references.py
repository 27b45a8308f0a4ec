"""Foreign keys checked once per statement, for the tables the order path writes.

PostgreSQL checks a foreign key once per row: one query per row and key, queued and
run at commit when the key is deferred, as Django makes them. A 100-order batch
writes some 900 rows with about 1,800 keys to check, and those checks were the
largest single part of its time under the instrument's lock. A `Reference` keeps the
same rule with triggers instead of a FOREIGN KEY constraint (the model's field says
`db_constraint=False`):

- on the child, one statement-level trigger per INSERT checks every key of every row
  the statement inserted, with one query per key column over the distinct values
  (a batch's rows share a few participants, regions and accounts), locking each
  parent row FOR KEY SHARE as the built-in check does; an UPDATE that changes a key
  checks the new value, row by row;
- on the parent, a DELETE, or an UPDATE of its key, is refused while a child row
  refers to it (NO ACTION, as a Django ForeignKey has in the database).

The error is SQLSTATE 23503 (foreign_key_violation), an IntegrityError in Django, as
a constraint's. Three differences from a constraint, none of which this project
meets: the check is immediate (at the end of the inserting statement, not at commit,
so a parent must be written before its children); it relies on READ COMMITTED (a
parent's triggers see children committed while they waited for the row lock, with
the fresh snapshot each statement takes); and TRUNCATE of a parent alone is not
refused. On other databases these keys are not checked in the database at all.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter

from django.db import models


@dataclass(frozen=True, slots=True)
class Reference:
    """`table`.`column` refers to `parent`.`key`."""

    table: str
    column: str
    parent: str
    key: str = "id"


def foreign_key(to, **options) -> models.ForeignKey:
    """A ForeignKey without the FOREIGN KEY constraint, for a column its migration
    checks with a `Reference` instead (a test holds every such field to one)."""
    return models.ForeignKey(to, db_constraint=False, **options)


def install_sql(references: Iterable[Reference]) -> str:
    """The functions and triggers for `references` (all of a child table's and all
    of a parent table's together: each table gets one of each trigger)."""
    references = sorted(set(references), key=attrgetter("table", "column"))
    parts = [_raise_function()]
    for table, refs in groupby(references, attrgetter("table")):
        parts.append(_child(table, list(refs)))
    by_parent = sorted(references, key=attrgetter("parent", "table", "column"))
    for parent, refs in groupby(by_parent, attrgetter("parent")):
        parts.append(_parent(parent, list(refs)))
    return "\n".join(parts)


def uninstall_sql(references: Iterable[Reference]) -> str:
    references = set(references)
    parts = []
    for table in sorted({r.table for r in references}):
        parts.append(
            f"DROP TRIGGER IF EXISTS {table}_refs_inserted ON {table};\n"
            f"DROP TRIGGER IF EXISTS {table}_refs_updated ON {table};\n"
            f"DROP FUNCTION IF EXISTS {table}_refs_inserted();\n"
            f"DROP FUNCTION IF EXISTS {table}_refs_updated();"
        )
    for parent in sorted({r.parent for r in references}):
        parts.append(
            f"DROP TRIGGER IF EXISTS {parent}_refs_deleted ON {parent};\n"
            f"DROP TRIGGER IF EXISTS {parent}_refs_rekeyed ON {parent};\n"
            f"DROP FUNCTION IF EXISTS {parent}_refs_kept();"
        )
    parts.append("DROP FUNCTION IF EXISTS refs_violation(text, text, text, text);")
    return "\n".join(parts)


def _raise_function() -> str:
    return """
CREATE OR REPLACE FUNCTION refs_violation(message text, col text, val text, tbl text)
RETURNS void AS $$
BEGIN
    RAISE EXCEPTION '%', message
        USING ERRCODE = 'foreign_key_violation',
              DETAIL = format('Key (%s)=(%s) %s "%s".', col, val,
                              CASE WHEN message LIKE 'insert%' THEN
                                  'is not present in table'
                              ELSE 'is still referenced from table' END, tbl);
END;
$$ LANGUAGE plpgsql;
"""


def _child(table: str, refs: list[Reference]) -> str:
    # Every parent row the statement refers to, locked as the built-in check locks
    # it: as many rows as distinct non-NULL values, or one is missing. One query
    # for all the keys (a query costs a statement with a single row more than its
    # work), and on failure one per key, to name the missing value.
    counts = "\n        OR ".join(
        f"(SELECT count(*) FROM (SELECT FROM {r.parent} p WHERE p.{r.key} = ANY "  # noqa: S608
        f"(ARRAY(SELECT DISTINCT {r.column} FROM inserted)) FOR KEY SHARE OF p) s)"
        f" <> (SELECT count(DISTINCT {r.column}) FROM inserted)"
        for r in refs
    )
    message = f'insert or update on table "{table}" violates reference %s'
    which = "".join(
        f"""
        SELECT i.{r.column}::text INTO missing FROM inserted i
         WHERE i.{r.column} IS NOT NULL AND NOT EXISTS
               (SELECT FROM {r.parent} p WHERE p.{r.key} = i.{r.column}) LIMIT 1;
        IF FOUND THEN
            PERFORM refs_violation(format('{message}', '{r.column} -> {r.parent}'),
                                   '{r.column}', missing, '{r.parent}');
        END IF;"""  # noqa: S608
        for r in refs
    )
    changed = " OR ".join(
        f"OLD.{r.column} IS DISTINCT FROM NEW.{r.column}" for r in refs
    )
    updated = "".join(
        f"""
    IF NEW.{r.column} IS NOT NULL AND OLD.{r.column} IS DISTINCT FROM NEW.{r.column}
    THEN
        PERFORM FROM {r.parent} p WHERE p.{r.key} = NEW.{r.column} FOR KEY SHARE OF p;
        IF NOT FOUND THEN
            PERFORM refs_violation(format('{message}', '{r.column} -> {r.parent}'),
                                   '{r.column}', NEW.{r.column}::text, '{r.parent}');
        END IF;
    END IF;"""
        for r in refs
    )
    return f"""
CREATE OR REPLACE FUNCTION {table}_refs_inserted() RETURNS trigger AS $$
DECLARE missing text;
BEGIN
    IF {counts}
    THEN{which}
        -- A parent deleted while this statement waited for its row lock.
        PERFORM refs_violation(format('{message}', 'to a deleted row'), '?', '?', '?');
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION {table}_refs_updated() RETURNS trigger AS $$
BEGIN{updated}
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER {table}_refs_inserted AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_refs_inserted();
CREATE TRIGGER {table}_refs_updated AFTER UPDATE ON {table}
    FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {table}_refs_updated();
"""


def _parent(parent: str, refs: list[Reference]) -> str:
    key = refs[0].key
    checks = "".join(
        f"""
    IF EXISTS (SELECT FROM {r.table} c WHERE c.{r.column} = OLD.{r.key}) THEN
        PERFORM refs_violation(
            'update or delete on table "{parent}" violates reference '
            '{r.table}.{r.column} -> {parent}', '{r.key}', OLD.{r.key}::text,
            '{r.table}');
    END IF;"""
        for r in refs
    )
    return f"""
CREATE OR REPLACE FUNCTION {parent}_refs_kept() RETURNS trigger AS $$
BEGIN{checks}
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER {parent}_refs_deleted AFTER DELETE ON {parent}
    FOR EACH ROW EXECUTE FUNCTION {parent}_refs_kept();
CREATE TRIGGER {parent}_refs_rekeyed AFTER UPDATE OF {key} ON {parent}
    FOR EACH ROW WHEN (OLD.{key} IS DISTINCT FROM NEW.{key})
    EXECUTE FUNCTION {parent}_refs_kept();
"""
