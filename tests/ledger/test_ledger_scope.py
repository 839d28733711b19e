"""Issue 11 finding 3: ledger reads are scoped like cases.

Before: any supervisor (or admin) anywhere in the province could read the inclusion proof, payload
included, of any case's entries, and those payloads carry applicants' real names.
"""

from __future__ import annotations

from rest_framework.test import APIClient

from ledger.actions import seal_pending
from ledger.models import Entry
from workflows.ledger_records import case_subject


def _client(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_a_supervisor_reads_proofs_of_cases_in_scope_only(wf):
    # Received and decided entirely in 贵阳: 遵义's supervisor has no duty for it.
    case = wf.receive(clerk="gy_clerk", receiving_hall=wf.halls["guiyang"])
    seal_pending(limit=100)
    entry = Entry.objects.filter(subject=case_subject(case.number), kind="case_event").first()
    assert entry is not None and case.number in entry.payload

    outside = _client(wf.users["sup_zunyi"]).get(f"/api/v1/ledger/proof/{entry.pk}/")
    assert outside.status_code == 404  # same answer as an unknown entry: existence is not revealed
    assert case.number not in outside.content.decode() and "actor_label" not in outside.content.decode()
    assert _client(wf.users["sup_zunyi"]).get("/api/v1/ledger/proof/999999/").status_code == 404

    for who in ("sup_guiyang", "sup_province"):
        body = _client(wf.users[who]).get(f"/api/v1/ledger/proof/{entry.pk}/").json()
        assert body["entry"]["id"] == entry.pk, who
    # Staff who see the case but are not auditors still get nothing (unchanged rule).
    assert _client(wf.users["gy_clerk"]).get(f"/api/v1/ledger/proof/{entry.pk}/").status_code == 404


def test_a_region_admin_is_scoped_and_unknown_subjects_are_closed(wf, make_user):
    from ledger.actions import append

    case = wf.receive(clerk="gy_clerk", receiving_hall=wf.halls["guiyang"])
    entry = Entry.objects.filter(subject=case_subject(case.number)).first()
    zunyi_admin = make_user("admin", region=wf.regions["520300"])
    assert _client(zunyi_admin).get(f"/api/v1/ledger/proof/{entry.pk}/").status_code == 404
    guiyang_admin = make_user("admin", region=wf.regions["520100"])
    assert _client(guiyang_admin).get(f"/api/v1/ledger/proof/{entry.pk}/").status_code == 200

    # A subject no app claims is readable by a province-wide admin only.
    other = append(subject="misc:1", kind="other", payload={"n": 1})
    assert _client(wf.users["sup_province"]).get(f"/api/v1/ledger/proof/{other.pk}/").status_code == 404
    province_admin = make_user("admin", is_superuser=True)
    assert _client(province_admin).get(f"/api/v1/ledger/proof/{other.pk}/").status_code == 200
