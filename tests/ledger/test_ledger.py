"""The append path, sealing, verification and fault injection (verify_ledger names the first bad entry)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from rest_framework.test import APIClient

from ledger import actions, selectors
from ledger.actions import LedgerError, append, seal_pending
from ledger.models import Batch, Entry, SubjectHead
from ledger.verify import verify_ledger
from workflows import actions as wf_actions
from workflows.ledger_records import case_subject, record_case_event, record_material
from workflows.models import Case, CaseEvent, Material


def run_verify(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_ledger", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def record_new(case: Case) -> None:
    """What the workflow's call sites do (the lead wires it): record each new CaseEvent / Material
    in the transaction that wrote it. Here: after the fact, in id order, idempotently by ref."""
    have = set(Entry.objects.filter(subject=case_subject(case.number)).values_list("ref", flat=True))
    for material in Material.objects.filter(case=case).select_related("requirement", "case").order_by("pk"):
        if f"material:{material.pk}" not in have:
            record_material(material)
    for event in CaseEvent.objects.filter(case=case).select_related("case").order_by("pk"):
        if f"case_event:{event.pk}" not in have:
            record_case_event(event)


@pytest.fixture
def populated(wf, drive, on_commit):
    """Two delivered cases in the ledger, sealed into two signed batches, plus unsealed entries."""
    first = wf.receive()
    wf.upload_required(first)
    first = on_commit(drive, first, "approved")
    first = on_commit(wf_actions.print_result, case=first, actor=wf.users["zy_printer"])
    first = on_commit(wf_actions.hand_over, case=first, actor=wf.users["zy_printer"])
    record_new(first)
    seal_pending(limit=7)  # several batches, the last one partial
    second = wf.receive(delivery_method="mail", delivery_address="遵义市某路2号")
    wf.upload_required(second)
    second = on_commit(drive, second, "approved")
    record_new(second)
    seal_pending(limit=100)
    third = wf.receive()
    record_new(third)  # left unsealed
    assert verify_ledger(check_sources=True).ok
    return {"first": first, "second": second, "third": third}


# --- the append path -------------------------------------------------------------------------


def test_append_chains_per_subject(db):
    a1 = append(subject="case:A", kind="other", payload={"n": 1})
    b1 = append(subject="case:B", kind="other", payload={"n": 1})
    a2 = append(subject="case:A", kind="other", payload={"n": 2, "when": "x"})
    assert (a1.seq, a2.seq, b1.seq) == (1, 2, 1)
    assert a1.prev_hash == "0" * 64 and a2.prev_hash == a1.entry_hash and b1.prev_hash == "0" * 64
    assert SubjectHead.objects.get(subject="case:A").head_hash == a2.entry_hash
    assert a2.payload == '{"n":2,"when":"x"}'  # canonical JSON: sorted keys, no spaces
    report = verify_ledger()
    assert report.ok and report.entries == 3 and report.unsealed == 3 and report.subjects == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"subject": "", "kind": "other", "payload": {}}, "subject"),
        ({"subject": "case|x", "kind": "other", "payload": {}}, "subject"),
        ({"subject": "case:A", "kind": "nonsense", "payload": {}}, "kind"),
        ({"subject": "case:A", "kind": "other", "payload": []}, "object"),
        ({"subject": "case:A", "kind": "other", "payload": {"x": float("nan")}}, "not JSON compliant"),
        ({"subject": "case:A", "kind": "other", "payload": {"x": object()}}, "not allowed"),
    ],
)
def test_bad_appends_are_refused_and_write_nothing(db, kwargs, message):
    with pytest.raises((LedgerError, ValueError, TypeError), match=message):
        append(**kwargs)
    assert not Entry.objects.exists()


def test_duplicate_ref_is_refused(db):
    append(subject="case:A", kind="other", payload={}, ref="x:1")
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        append(subject="case:A", kind="other", payload={}, ref="x:1")
    assert Entry.objects.count() == 1 and SubjectHead.objects.get(subject="case:A").seq == 1


def test_append_rolls_back_with_the_callers_transaction(wf):
    """No receiver, no second transaction: the entry commits or rolls back with the fact it records."""
    case = wf.receive()
    wf.upload_required(case)
    subject = case_subject(case.number)
    before = Entry.objects.count()
    head_before = SubjectHead.objects.filter(subject=subject).values_list("seq", flat=True).first()

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        wf_actions.verify(case=case, actor=wf.users["zy_clerk"], id_checked=True, originals_sighted=["id_card"])
        append(subject=subject, kind="other", payload={"note": "inside the transition's transaction"})
        raise Abort
    assert Entry.objects.count() == before
    assert SubjectHead.objects.filter(subject=subject).values_list("seq", flat=True).first() == head_before
    with transaction.atomic():
        entry = append(subject=subject, kind="other", payload={"note": "committed"})
    assert Entry.objects.filter(pk=entry.pk).exists() and verify_ledger().ok


def test_seal_is_incremental_and_chains_batches(db):
    for i in range(5):
        append(subject=f"case:S{i % 2}", kind="other", payload={"i": i})
    first = seal_pending(limit=2)
    assert [b.size for b in first] == [2, 2, 1]
    assert seal_pending() == []  # nothing pending
    append(subject="case:S0", kind="other", payload={"late": True})
    (fourth,) = seal_pending()
    assert fourth.seq == 4 and fourth.prev_hash == first[-1].statement_hash
    assert json.loads(fourth.statement)["root"] == fourth.root
    report = verify_ledger()
    assert report.ok and report.batches == 4 and report.unsealed == 0 and report.root == fourth.root


def test_inclusion_proof_round_trip(db):
    entries = [append(subject=f"case:P{i % 3}", kind="result_digest", payload={"i": i}) for i in range(11)]
    seal_pending()
    for e in entries:
        e.refresh_from_db()
        proof = selectors.inclusion_proof(e).as_dict(include_payload=True)
        assert selectors.check_proof(proof)
        proof["entry"]["entry_hash"] = entries[(entries.index(e) + 1) % 11].entry_hash
        assert not selectors.check_proof(proof)


def test_verify_ledger_command_when_intact(populated):
    code, out, err = run_verify("--sources")
    assert code == 0, err
    assert "ledger intact" in out and "signed batches" in out


# --- fault injection: every kind of change is found, and the first bad entry is named -------


def _entry(kind: str, *, subject: str | None = None, sealed: bool | None = None, nth: int = 0) -> Entry:
    qs = Entry.objects.filter(kind=kind).order_by("id")
    if subject:
        qs = qs.filter(subject=subject)
    if sealed is not None:
        qs = qs.filter(batch__isnull=not sealed)
    return qs[nth]


def _flip_one_byte(text: str) -> str:
    i = len(text) // 2
    return text[:i] + chr(ord(text[i]) ^ 1) + text[i + 1 :]


def _assert_names(entry: Entry, err: str, what: str) -> None:
    first_line = err.splitlines()[0]
    assert f"entry id={entry.pk}" in first_line, first_line
    assert f"subject={entry.subject}" in first_line and f"seq={entry.seq}" in first_line
    assert what in first_line, first_line


def test_changed_event_payload_byte(populated):
    e = _entry("case_event", sealed=True, nth=3)
    Entry.objects.filter(pk=e.pk).update(payload=_flip_one_byte(e.payload))
    code, _out, err = run_verify()
    assert code == 1
    _assert_names(e, err, "payload does not match its digest")


def test_changed_material_digest(populated):
    e = _entry("material_digest", sealed=True, nth=1)
    payload = json.loads(e.payload)
    payload["sha256"] = _flip_one_byte(payload["sha256"])
    Entry.objects.filter(pk=e.pk).update(payload=json.dumps(payload, sort_keys=True, separators=(",", ":")))
    code, _out, err = run_verify()
    assert code == 1
    _assert_names(e, err, "payload does not match its digest")


def test_changed_result_payload(populated):
    e = _entry("result_digest", subject=case_subject(populated["second"].number))
    Entry.objects.filter(pk=e.pk).update(payload=e.payload.replace('"licence"', '"certificate"'))
    code, _out, err = run_verify()
    assert code == 1
    _assert_names(e, err, "payload does not match its digest")


def test_changed_stored_root(populated):
    batch = Batch.objects.order_by("seq")[1]
    Batch.objects.filter(pk=batch.pk).update(root=_flip_one_byte(batch.root))
    code, _out, err = run_verify()
    assert code == 1
    first_line = err.splitlines()[0]
    assert f"batch={batch.seq}" in first_line and f"first entry id={batch.first_entry_id}" in first_line
    assert "stored root differs from the signed statement" in first_line


def test_forged_batch_signature(populated):
    batch = Batch.objects.order_by("seq").first()
    Batch.objects.filter(pk=batch.pk).update(
        signature="A" + batch.signature[1:] if batch.signature[0] != "A" else "B" + batch.signature[1:]
    )
    code, _out, err = run_verify()
    assert code == 1 and "signature does not verify" in err.splitlines()[0]


def test_deleted_entry_in_the_middle_of_a_chain(populated):
    subject = case_subject(populated["first"].number)
    victim = Entry.objects.filter(subject=subject).order_by("seq")[4]
    successor = Entry.objects.get(subject=subject, seq=victim.seq + 1)
    Entry.objects.filter(pk=victim.pk).delete()
    code, _out, err = run_verify()
    assert code == 1
    _assert_names(successor, err, f"sequence {successor.seq} where {victim.seq} was expected")
    assert "problems in total" in err  # the batch that lost it is reported too


def test_deleted_last_entry_of_a_chain(populated):
    subject = case_subject(populated["third"].number)
    last = Entry.objects.filter(subject=subject).order_by("-seq").first()
    Entry.objects.filter(pk=last.pk).delete()
    code, _out, err = run_verify()
    assert code == 1
    first_line = err.splitlines()[0]
    assert f"subject={subject}" in first_line and "deleted" in first_line


def test_reordered_entries_within_a_chain(populated):
    subject = case_subject(populated["second"].number)
    a, b = Entry.objects.filter(subject=subject).order_by("seq")[2:4]
    with transaction.atomic():
        Entry.objects.filter(pk=a.pk).update(seq=100000)
        Entry.objects.filter(pk=b.pk).update(seq=a.seq)
        Entry.objects.filter(pk=a.pk).update(seq=b.seq)
    code, _out, err = run_verify()
    assert code == 1
    assert f"entry id={a.pk}" in err.splitlines()[0] and "sequence" in err.splitlines()[0]


def test_reordered_leaves_within_a_batch(populated):
    batch = Batch.objects.order_by("seq")[1]
    a, b = Entry.objects.filter(batch=batch).order_by("leaf_index")[:2]
    with transaction.atomic():
        Entry.objects.filter(pk=a.pk).update(leaf_index=99999)
        Entry.objects.filter(pk=b.pk).update(leaf_index=a.leaf_index)
        Entry.objects.filter(pk=a.pk).update(leaf_index=b.leaf_index)
    code, _out, err = run_verify()
    assert code == 1
    assert f"entry id={a.pk}" in err.splitlines()[0] and "leaf index" in err.splitlines()[0]


def test_rewritten_history_with_recomputed_hashes_is_caught_by_the_signed_root(populated):
    """An attacker with database access edits a payload AND recomputes every digest, chain hash and
    head after it: the chain looks perfect, but the signed Merkle root no longer matches."""
    from ledger.hashing import entry_hash, sha256_hex, timestamp_us

    subject = case_subject(populated["first"].number)
    chain = list(Entry.objects.filter(subject=subject).order_by("seq"))
    target = chain[2]
    target.payload = _flip_one_byte(target.payload)
    prev = target.prev_hash
    for e in chain[2:]:
        if e.pk == target.pk:
            e.payload_digest = sha256_hex(e.payload.encode())
        e.prev_hash = prev
        e.entry_hash = entry_hash(e.subject, e.seq, e.kind, e.payload_digest, prev, timestamp_us(e.created_at))
        Entry.objects.filter(pk=e.pk).update(
            payload=e.payload, payload_digest=e.payload_digest, prev_hash=e.prev_hash, entry_hash=e.entry_hash
        )
        prev = e.entry_hash
    SubjectHead.objects.filter(subject=subject).update(head_hash=prev)
    code, _out, err = run_verify()
    assert code == 1
    assert "Merkle root recomputed from the entries differs from the signed root" in err.splitlines()[0]


def test_changed_source_rows_are_found_with_sources(populated):
    """The workflow's own tables: an event's payload and a material's digest changed after recording."""
    case = populated["second"]
    event = CaseEvent.objects.filter(case=case, transition="verify").get()
    CaseEvent.objects.filter(pk=event.pk).update(payload={**event.payload, "id_checked": False})
    material = Material.objects.filter(case=case).order_by("pk").first()
    Material.objects.filter(pk=material.pk).update(sha256=_flip_one_byte(material.sha256))
    assert run_verify()[0] == 0  # the ledger itself is intact...
    code, _out, err = run_verify("--sources")  # ...but the data no longer matches it
    assert code == 1
    entries = Entry.objects.filter(ref__in=[f"case_event:{event.pk}", f"material:{material.pk}"]).order_by("id")
    first_line = err.splitlines()[0]
    assert f"entry id={entries[0].pk}" in first_line and "no longer matches the ledger" in first_line


# --- API ----------------------------------------------------------------------------------------


def test_verify_api_is_for_supervisors_and_admins(populated, wf):
    anon = APIClient()
    assert anon.get("/api/v1/ledger/verify/").status_code == 401
    for who in ("zy_clerk", "yy_approver", "citizen", "hall_sup_zy"):
        c = APIClient()
        c.force_authenticate(wf.users[who])
        assert c.get("/api/v1/ledger/verify/").status_code == 403, who
    c = APIClient()
    c.force_authenticate(wf.users["sup_province"])
    body = c.get("/api/v1/ledger/verify/").json()
    assert body["ok"] is True and body["entries"] == Entry.objects.count()
    assert body["root"] == Batch.objects.order_by("-seq").first().root
    Entry.objects.filter(pk=Entry.objects.order_by("id").first().pk).update(payload="{}")
    body = c.get("/api/v1/ledger/verify/").json()
    assert body["ok"] is False and "payload does not match" in body["first_problem"]


def test_proof_api_public_for_results_only(populated, wf):
    anon = APIClient()
    result_entry = Entry.objects.filter(kind="result_digest", batch__isnull=False).first()
    body = anon.get(f"/api/v1/ledger/proof/{result_entry.pk}/").json()
    assert body["sealed"] and selectors.check_proof(body)
    event_entry = Entry.objects.filter(kind="case_event").first()
    assert anon.get(f"/api/v1/ledger/proof/{event_entry.pk}/").status_code == 404
    assert anon.get("/api/v1/ledger/proof/999999/").status_code == 404
    sup = APIClient()
    sup.force_authenticate(wf.users["sup_province"])
    assert sup.get(f"/api/v1/ledger/proof/{event_entry.pk}/").status_code == 200
    roots = anon.get("/api/v1/ledger/roots/").json()
    assert roots["count"] == Batch.objects.count()


def test_seal_task_runs_synchronously(db):
    from ledger.tasks import seal_pending as task

    append(subject="case:T", kind="other", payload={})
    assert task.delay().get() == {"batches": [1], "entries": 1}


# --- PostgreSQL: writers of different cases never wait for each other ---------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_appends_to_different_subjects_do_not_block(db):
    import threading

    held = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def slow_writer():
        try:
            with transaction.atomic():
                append(subject="case:HOT", kind="other", payload={"w": 1})
                held.set()
                release.wait(10)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    t = threading.Thread(target=slow_writer)
    t.start()
    assert held.wait(10)
    try:
        with connection.cursor() as cur:
            cur.execute("SET lock_timeout = '2s'")
        append(subject="case:OTHER", kind="other", payload={"w": 2})  # does not wait for case:HOT
        with connection.cursor() as cur:
            cur.execute("SET lock_timeout = 0")
    finally:
        release.set()
        t.join()
    assert not errors
    assert verify_ledger().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_to_one_subject_serialise(db):
    from concurrent.futures import ThreadPoolExecutor

    def write(i: int) -> int:
        try:
            return append(subject="case:SAME", kind="other", payload={"i": i}).seq
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        seqs = sorted(pool.map(write, range(30)))
    assert seqs == list(range(1, 31))
    actions.seal_pending()
    assert verify_ledger().ok


def test_portable_python_append_path_interoperates(db):
    """The ORM path (databases other than SQLite/PostgreSQL) writes the same chain format."""
    from django.utils import timezone

    from ledger.hashing import canonical_json, sha256_hex

    text = canonical_json({"n": 1})
    actions._append_python("case:PORT", "other", None, text, sha256_hex(text.encode()), timezone.now())
    append(subject="case:PORT", kind="other", payload={"n": 2})
    text = canonical_json({"n": 3})
    third = actions._append_python("case:PORT", "other", "x:3", text, sha256_hex(text.encode()), timezone.now())
    assert third.seq == 3
    seal_pending()
    assert verify_ledger().ok


@pytest.mark.django_db
def test_several_facts_of_one_subject_in_one_statement_keep_their_order():
    """ledger_append_many (PostgreSQL): the entries of several new fact rows of one subject, written
    in one statement, chain in the order given after what the subject held; a guard that returns
    no row writes nothing at all."""
    if connection.vendor != "postgresql":
        with pytest.raises(LedgerError):
            actions.insert_all_and_append(subject="t:many", facts=[], guard=("SELECT 1 AS id", []))
        return
    from django.utils import timezone

    from ledger.models import Kind

    first = append(subject="t:many", kind=Kind.CASE_EVENT, payload={"n": 0}, ref="x:0")
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE many_facts (id serial PRIMARY KEY, n int)")

    def facts(*numbers: int) -> list[actions.Fact]:
        return [
            actions.Fact(
                "INSERT INTO many_facts (n) SELECT %s::int FROM __prev__ RETURNING id",
                [n],
                kind=Kind.CASE_EVENT,
                payload={"n": n},
                ref_prefix="x:",
                at=timezone.now(),
            )
            for n in numbers
        ]

    with transaction.atomic():
        written = actions.insert_all_and_append(subject="t:many", facts=facts(1, 2, 3), guard=("SELECT 1 AS id", []))
    assert written is not None
    entries = list(Entry.objects.filter(subject="t:many").order_by("seq"))
    assert [json.loads(e.payload)["n"] for e in entries] == [0, 1, 2, 3]
    assert [e.prev_hash for e in entries[1:]] == [e.entry_hash for e in entries[:-1]]
    assert [e.id for _fid, e in written] == [e.id for e in entries[1:]]
    with connection.cursor() as cur:
        cur.execute("SELECT id FROM many_facts ORDER BY id")
        ids = [r[0] for r in cur.fetchall()]
    assert [e.ref for e in entries[1:]] == [f"x:{i}" for i in ids]
    assert entries[0].id == first.id

    nothing = ("SELECT 1 AS id WHERE false", [])
    assert actions.insert_all_and_append(subject="t:many", facts=facts(4, 5), guard=nothing) is None
    assert Entry.objects.filter(subject="t:many").count() == 4
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM many_facts")
        assert cur.fetchone()[0] == 3
    assert verify_ledger().ok
