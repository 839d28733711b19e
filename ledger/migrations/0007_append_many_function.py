"""PostgreSQL: ledger_append_many() appends several entries to ONE subject, in the order given, by
calling ledger_append() for each: a transition's follow-up steps (approve → issue → queue_print)
write their events and entries in one statement, in seq order."""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION ledger_append_many(
    p_subject text, p_kinds text[], p_refs text[], p_payloads text[], p_digests text[], p_ts bigint[],
    p_now timestamptz[]
) RETURNS TABLE(entry_index integer, entry_id bigint, entry_seq integer, entry_prev text, entry_hash text) AS $$
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_kinds, 1), 0) LOOP
        RETURN QUERY SELECT i, a.* FROM ledger_append(
            p_subject, p_kinds[i], p_refs[i], p_payloads[i], p_digests[i], p_ts[i], p_now[i]
        ) AS a;
    END LOOP;
END;
$$ LANGUAGE plpgsql;
"""

DROP = "DROP FUNCTION IF EXISTS ledger_append_many(text, text[], text[], text[], text[], bigint[], timestamptz[]);"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0006_sealed_leaf_index_partial")]

    operations = [migrations.RunPython(forwards, backwards)]
