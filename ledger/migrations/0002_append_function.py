"""PostgreSQL: the append as one server-side function (one round trip per recorded fact).

The function does what ``ledger.actions._append_python`` does — lock the subject's head (INSERT …
ON CONFLICT DO UPDATE takes the row lock and returns the latest seq and hash), hash the entry with
PostgreSQL's built-in sha256(), insert it, move the head — so the per-transition overhead stays a
small fraction of the transition. verify_ledger recomputes every hash in Python, so any divergence
between the two implementations is caught (tests run on both databases).
"""

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
    INSERT INTO ledger_subjecthead AS h (subject, seq, head_hash, updated_at)
    VALUES (p_subject, 1, repeat('0', 64), p_now)
    ON CONFLICT (subject) DO UPDATE SET seq = h.seq + 1, updated_at = p_now
    RETURNING h.seq, h.head_hash INTO v_seq, v_prev;
    v_hash := encode(sha256(convert_to(
        'tongban-ledger-entry-v1|' || p_subject || '|' || v_seq::text || '|' || p_kind || '|' || p_digest
        || '|' || v_prev || '|' || p_ts::text, 'UTF8')), 'hex');
    INSERT INTO ledger_entry (subject, seq, kind, ref, payload, payload_digest, prev_hash, entry_hash, created_at)
    VALUES (p_subject, v_seq, p_kind, p_ref, p_payload, p_digest, v_prev, v_hash, p_now)
    RETURNING id INTO v_id;
    UPDATE ledger_subjecthead SET head_hash = v_hash WHERE subject = p_subject;
    RETURN QUERY SELECT v_id, v_seq, v_prev, v_hash;
END;
$$ LANGUAGE plpgsql;
"""

DROP = "DROP FUNCTION IF EXISTS ledger_append(text, text, text, text, text, bigint, timestamptz);"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
