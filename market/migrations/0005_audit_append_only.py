"""On PostgreSQL the audit trail is append-only in the database itself: UPDATE and
DELETE of audit rows raise, whoever sends them (admin shows the rows read-only)."""

from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION market_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are append-only (%% on %%)', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER market_auditentry_append_only
    BEFORE UPDATE OR DELETE ON market_auditentry
    FOR EACH ROW EXECUTE FUNCTION market_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS market_auditentry_append_only ON market_auditentry;
DROP FUNCTION IF EXISTS market_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("market", "0004_operators")]
    operations = [migrations.RunPython(forwards, backwards)]
