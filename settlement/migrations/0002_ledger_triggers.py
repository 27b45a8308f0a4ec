"""On PostgreSQL the database itself keeps the ledger honest:

- a deferred constraint trigger checks, at commit, that every journal entry that got a
  posting sums to zero (so a one-legged entry written with raw SQL is refused);
- postings and journal entries are append-only: UPDATE and DELETE raise.
"""

from django.db import migrations

BALANCED = """
CREATE OR REPLACE FUNCTION settlement_entry_balanced() RETURNS trigger AS $$
DECLARE total numeric;
BEGIN
    SELECT COALESCE(SUM(amount), 0) INTO total
      FROM settlement_posting WHERE entry_id = NEW.entry_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'journal entry %% is unbalanced: postings sum to %%',
            NEW.entry_id, total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER settlement_posting_balanced
    AFTER INSERT ON settlement_posting
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION settlement_entry_balanced();
"""

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION settlement_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are append-only (%% on %%): post a reversing entry',
        TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER settlement_posting_append_only
    BEFORE UPDATE OR DELETE ON settlement_posting
    FOR EACH ROW EXECUTE FUNCTION settlement_append_only();

CREATE TRIGGER settlement_journalentry_append_only
    BEFORE UPDATE OR DELETE ON settlement_journalentry
    FOR EACH ROW EXECUTE FUNCTION settlement_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS settlement_posting_balanced ON settlement_posting;
DROP TRIGGER IF EXISTS settlement_posting_append_only ON settlement_posting;
DROP TRIGGER IF EXISTS settlement_journalentry_append_only ON settlement_journalentry;
DROP FUNCTION IF EXISTS settlement_entry_balanced();
DROP FUNCTION IF EXISTS settlement_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BALANCED)
        schema_editor.execute(APPEND_ONLY)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("settlement", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
