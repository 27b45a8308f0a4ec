"""The balance check on postings runs once per INSERT statement, on the rows that
statement inserted, instead of once per row at commit (a 100-order batch inserts some
350 postings, and each row's check summed its entry again: a few milliseconds of
every commit).

The rule it checks: the postings one statement inserts sum to zero per journal
entry. Postings are append-only (0002), so every entry's total is the sum of those
statements' shares: each entry still sums to zero, and a one-legged entry is refused
at its INSERT. The ledger writes each batch's postings in one statement
(`settlement.ledger.Batch.commit`), so nothing it does is refused.
"""

from importlib import import_module

from django.db import migrations

PER_STATEMENT = """
DROP TRIGGER IF EXISTS settlement_posting_balanced ON settlement_posting;
DROP FUNCTION IF EXISTS settlement_entry_balanced();

CREATE FUNCTION settlement_entries_balanced() RETURNS trigger AS $$
DECLARE unbalanced record;
BEGIN
    SELECT entry_id, SUM(amount) AS total INTO unbalanced
      FROM inserted GROUP BY entry_id HAVING SUM(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry %% is unbalanced: postings sum to %%',
            unbalanced.entry_id, unbalanced.total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER settlement_posting_balanced
    AFTER INSERT ON settlement_posting
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_entries_balanced();
"""

# Back to 0002's trigger, as that migration wrote it.
PER_ROW = (
    """
DROP TRIGGER IF EXISTS settlement_posting_balanced ON settlement_posting;
DROP FUNCTION IF EXISTS settlement_entries_balanced();
"""
    + import_module("settlement.migrations.0002_ledger_triggers").BALANCED
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PER_STATEMENT)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PER_ROW)


class Migration(migrations.Migration):
    dependencies = [("settlement", "0003_depositrequest")]
    operations = [migrations.RunPython(forwards, backwards)]
