"""Issue 11 (finding 9, personal data): a citizen's unsubmitted draft is theirs alone."""

from __future__ import annotations

from rest_framework.test import APIClient

from workflows import selectors


def _client(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_drafts_are_invisible_to_every_staff_scope_until_submitted(wf, make_user):
    draft = wf.online()
    assert draft.state == "draft"
    province_admin = make_user("admin", is_superuser=True)
    staff = [wf.users[u] for u in ("yy_approver", "sup_guiyang", "sup_province")] + [province_admin]
    for user in staff:
        assert selectors.case_for(user, draft.number) is None, user.username
        c = _client(user)
        assert c.get(f"/api/v1/cases/{draft.number}/").status_code == 404, user.username
        listed = [row["number"] for row in c.get("/api/v1/cases/").json()["results"]]
        assert draft.number not in listed, user.username
    assert _client(wf.users["citizen"]).get(f"/api/v1/cases/{draft.number}/").status_code == 200

    wf.upload_required(draft)
    r = _client(wf.users["citizen"]).post(f"/api/v1/cases/{draft.number}/transitions/submit/", {}, format="json")
    assert r.status_code == 200, r.content
    for user in staff:
        assert _client(user).get(f"/api/v1/cases/{draft.number}/").status_code == 200, user.username
