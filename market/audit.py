"""The audit trail of operator actions: one append-only row per object an action
touched (who, what, when, before, after, why), written in the action's own
transaction, so a rolled-back action leaves no row and a committed one always has it.

Every app calls `audit_record`; it lives in `market` because all apps may import it.
"""

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction

from market.models import AuditEntry, Proposal

CSV_HEADER = [
    "id",
    "at",
    "operator",
    "action",
    "object_type",
    "object_id",
    "object",
    "before",
    "after",
    "reason",
    "proposal",
]
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named attributes of `obj` (use `*_id` for foreign keys), as the audit
    row's before or after."""
    return {name: getattr(obj, name) for name in fields}


def audit_record(
    *,
    operator: AbstractBaseUser,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    proposal: Proposal | None = None,
) -> AuditEntry:
    """Write the audit row of one operator action on `target` (or on
    `target_type`/`target_id` for what is not a row). Runs inside the caller's
    transaction, the one that does the action; refuses to run outside one."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record runs inside the action's transaction")
    if target is not None:
        target_type = target._meta.label_lower
        target_id = str(target.pk)
    return AuditEntry.objects.create(
        operator=operator,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_repr=str(target)[:255] if target is not None else "",
        before=before or {},
        after=after or {},
        reason=reason,
        proposal=proposal,
    )


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, cls=DjangoJSONEncoder)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def audit_csv_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    """The entries as CSV lines (header first), cells that a spreadsheet would run
    as formulas quoted with a leading apostrophe."""

    class Line:
        def write(self, line: str) -> str:
            return line

    writer = csv.writer(Line())
    yield writer.writerow(CSV_HEADER)
    for entry in entries:
        yield writer.writerow(
            [
                _cell(v)
                for v in (
                    str(entry.pk),
                    entry.created_at.isoformat(),
                    entry.operator.get_username(),
                    entry.action,
                    entry.target_type,
                    entry.target_id,
                    entry.target_repr,
                    entry.before,
                    entry.after,
                    entry.reason,
                    str(entry.proposal_id or ""),
                )
            ]
        )
