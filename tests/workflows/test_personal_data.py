"""Issue 11 finding 4: staff never see a citizen's phone or ID number unmasked through the API,
except by a logged, reasoned unmasking (see test_unmask_log.py)."""

from __future__ import annotations

from rest_framework.test import APIClient


def _client(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_events_never_carry_a_citizens_username_or_phone(wf, drive):
    citizen = wf.users["citizen"]
    # Accounts created by SMS login are named citizen-<phone>; an unnamed one used to be its label too.
    citizen.username = f"citizen-{citizen.phone}"
    citizen.save()
    case = wf.online()
    drive(case, "accepted")
    # Events written before this fix labelled an unnamed citizen by username.
    from workflows.models import CaseEvent

    CaseEvent.objects.filter(case=case, transition="create").update(actor_label=citizen.username)
    citizen.real_name = ""
    citizen.save()
    for who in ("yy_approver", "sup_guiyang"):
        body = _client(wf.users[who]).get(f"/api/v1/cases/{case.number}/")
        assert body.status_code == 200
        text = body.content.decode()
        assert citizen.phone not in text, who
        assert wf.applicant_id not in text, who
        actors = [(e["transition"], e["actor"], e["actor_name"]) for e in body.json()["events"]]
        assert ("create", "applicant", "申请人") in actors and ("submit", "applicant", "申请人") in actors, actors
        assert ("accept", "yy_approver", "云岩审批员") in actors
    page = APIClient()
    page.force_login(wf.users["yy_approver"])
    html = page.get(f"/workbench/cases/{case.number}/").content.decode()
    assert citizen.phone not in html and wf.applicant_id not in html
