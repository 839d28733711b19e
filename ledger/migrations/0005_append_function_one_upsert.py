"""PostgreSQL: ledger_append() in two statements — one upsert moves the head AND hashes the entry
(SET expressions read the old row: old head_hash becomes prev_hash), then the entry insert."""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION ledger_append(
    p_subject text, p_kind text, p_ref text, p_payload text, p_digest text, p_ts bigint, p_now timestamptz
) RETURNS TABLE(entry_id bigint, entry_seq integer, entry_prev text, entry_hash text) AS $$
DECLARE
    v_seq integer;
    v_prev text;
    v_hash text;
    v_id bigint;
BEGIN
    INSERT INTO ledger_subjecthead AS h (subject, seq, prev_hash, head_hash, updated_at)
    VALUES (
        p_subject, 1, repeat('0', 64),
        encode(sha256(convert_to('tongban-ledger-entry-v1|' || p_subject || '|1|' || p_kind || '|' || p_digest
            || '|' || repeat('0', 64) || '|' || p_ts::text, 'UTF8')), 'hex'),
        p_now)
    ON CONFLICT (subject) DO UPDATE SET
        seq = h.seq + 1,
        prev_hash = h.head_hash,
        head_hash = encode(sha256(convert_to('tongban-ledger-entry-v1|' || p_subject || '|' || (h.seq + 1)::text
            || '|' || p_kind || '|' || p_digest || '|' || h.head_hash || '|' || p_ts::text, 'UTF8')), 'hex'),
        updated_at = p_now
    RETURNING h.seq, h.prev_hash, h.head_hash INTO v_seq, v_prev, v_hash;
    INSERT INTO ledger_entry (subject, seq, kind, ref, payload, payload_digest, prev_hash, entry_hash, created_at)
    VALUES (p_subject, v_seq, p_kind, p_ref, p_payload, p_digest, v_prev, v_hash, p_now)
    RETURNING id INTO v_id;
    RETURN QUERY SELECT v_id, v_seq, v_prev, v_hash;
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        import importlib

        schema_editor.execute(importlib.import_module("ledger.migrations.0002_append_function").CREATE)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_head_prev_hash")]

    operations = [migrations.RunPython(forwards, backwards)]
