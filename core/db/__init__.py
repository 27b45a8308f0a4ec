"""The SQL toolkit of the hot paths: rows written many at a time, writes and reads
sent together in one round trip, keys reserved ahead of rows, exact sums, and one
consistent snapshot for reads that span many tables. The differences between
database backends live here (`core.db.vendor`) and nowhere else in the apps; each
app's table-specific SQL lives in that app's own persistence module."""

from core.db.keys import ids_read, ids_reserve
from core.db.reads import (
    Read,
    model_columns,
    models_from_rows,
    read_now,
    reads_together,
    values_from_rows,
)
from core.db.rows import (
    COPY_FROM,
    row_copy,
    row_update,
    rows_insert,
    rows_update,
    unsaved,
)
from core.db.snapshot import consistent_snapshot
from core.db.sums import decimal_sums
from core.db.together import Rows, execute_later, lock_later, writes_together
from core.db.vendor import (
    add_by_id,
    constraint_name,
    for_update,
    id_in,
    locks_rows,
    pairs_in,
    sums_exactly,
)

__all__ = [
    "COPY_FROM",
    "Read",
    "Rows",
    "add_by_id",
    "consistent_snapshot",
    "constraint_name",
    "decimal_sums",
    "execute_later",
    "for_update",
    "id_in",
    "ids_read",
    "ids_reserve",
    "lock_later",
    "locks_rows",
    "model_columns",
    "models_from_rows",
    "pairs_in",
    "read_now",
    "reads_together",
    "row_copy",
    "row_update",
    "rows_insert",
    "rows_update",
    "sums_exactly",
    "unsaved",
    "values_from_rows",
    "writes_together",
]
