"""Issue 11 finding 2: reuse only with the applicant present.

Before: any clerk typing any ID number into a new case saw, via ``/reusable/``, that person's
materials from cases in other cities (numbers, digests, where originals were sighted) and could
attach them, with consent defaulting to true. Now a clerk needs a grant the applicant gives in the
moment — a one-time code to the applicant's VERIFIED phone, or approval in the applicant's own
session — recorded with every reuse (ReuseConsent.grant).
"""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.utils import timezone

from ledger.models import Entry
from licences.models import ReuseConsent, ReuseGrant
from notifications.backends import outbox
from tests.fixtures.accounts import last_code
from tests.fixtures.workflows import id_number
from tests.licences.helpers import client_for
from workflows import actions as wf_actions
from workflows.actions import ApplicantInput
from workflows.models import Material


def fabricated_case(wf):
    """A Guiyang clerk types 张三's ID number into a new case, with a phone of the clerk's choosing."""
    return wf.receive(
        clerk="gy_clerk",
        receiving_hall=wf.halls["guiyang"],
        applicant=ApplicantInput("张三", wf.applicant_id, "13700000001"),
    )


def test_a_clerk_sees_and_attaches_nothing_without_the_applicants_consent(wf, delivered):
    first, licence = delivered
    case = fabricated_case(wf)
    clerk = client_for(wf.users["gy_clerk"])
    r = clerk.get(f"/api/v1/cases/{case.number}/reusable/")
    assert r.status_code == 403 and "当场授权" in r.json()["detail"]
    assert first.number not in r.content.decode() and licence.number not in r.content.decode()
    source = Material.objects.get(case=first, requirement__code="id_card")
    url = f"/api/v1/cases/{case.number}/materials/"
    for body in (
        {"requirement": "lease", "e_license": str(licence.result_id)},
        {"requirement": "lease", "e_license": str(licence.result_id), "consent": True},
        {"requirement": "id_card", "shared_material": source.pk, "consent": True},
    ):
        assert clerk.post(url, body, format="json").status_code == 403, body
    assert not case.materials.exists() and not ReuseConsent.objects.exists()
    # The fabricated case does not show in the victim's 我的办件 (not her phone: not linked).
    assert case.number not in str(client_for(wf.users["citizen"]).get("/api/v1/cases/").json())


def test_the_code_goes_to_the_verified_phone_and_the_grant_is_recorded(
    wf, delivered, django_capture_on_commit_callbacks
):
    first, licence = delivered
    case = fabricated_case(wf)
    clerk_user = wf.users["gy_clerk"]
    clerk = client_for(clerk_user)
    outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        r = clerk.post(f"/api/v1/cases/{case.number}/reuse-grants/", {}, format="json")
    assert r.status_code == 202, r.content
    grant_id = r.json()["id"]
    assert r.json()["phone_masked"] == "138****8000"
    # To the phone her verified account holds — never the one the clerk typed in.
    assert [m.to[-11:] for m in outbox] == ["13800138000"]
    assert "贵阳市云岩区政务服务中心" in outbox[0].body and case.number in outbox[0].body
    code = last_code("13800138000")
    confirm = f"/api/v1/cases/{case.number}/reuse-grants/{grant_id}/confirm/"

    # Another clerk cannot use her code; wrong guesses are capped.
    other = client_for(wf.users["zy_clerk"])
    assert other.post(confirm, {"code": code}, format="json").status_code == 404  # not in his scope
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(2):
        assert clerk.post(confirm, {"code": wrong}, format="json").status_code == 400
    assert ReuseGrant.objects.get(pk=grant_id).consented_at is None

    r = clerk.post(confirm, {"code": code}, format="json")
    assert r.status_code == 200 and r.json()["channel"] == "sms_code"
    reusable = {row["requirement"]: row for row in clerk.get(f"/api/v1/cases/{case.number}/reusable/").json()}
    assert [e["number"] for e in reusable["lease"]["e_licences"]] == [licence.number]
    r = clerk.post(
        f"/api/v1/cases/{case.number}/materials/",
        {"requirement": "lease", "e_license": str(licence.result_id)},
        format="json",
    )
    assert r.status_code == 201, r.content
    consent = ReuseConsent.objects.get(case=case)
    assert consent.channel == "sms_code" and consent.grant_id == grant_id and consent.recorded_by == clerk_user
    assert '"channel":"sms_code"' in Entry.objects.get(kind="consent", ref=f"consent:{consent.pk}").payload
    # A refusal stays a refusal, grant or not.
    r = clerk.post(
        f"/api/v1/cases/{case.number}/materials/",
        {
            "requirement": "id_card",
            "shared_material": Material.objects.get(case=first, requirement__code="id_card").pk,
            "consent": False,
        },
        format="json",
    )
    assert r.status_code == 400

    # The grant is for this moment only.
    with time_machine.travel(timezone.now() + timedelta(minutes=31), tick=False):
        assert clerk.get(f"/api/v1/cases/{case.number}/reusable/").status_code == 403


def test_the_applicant_can_approve_in_her_own_session(wf, delivered, django_capture_on_commit_callbacks):
    case = fabricated_case(wf)
    clerk = client_for(wf.users["gy_clerk"])
    with django_capture_on_commit_callbacks(execute=True):
        grant_id = clerk.post(f"/api/v1/cases/{case.number}/reuse-grants/", {}, format="json").json()["id"]
    assert client_for(wf.users["other_citizen"]).get("/api/v1/reuse-grants/").json() == []
    assert client_for(wf.users["other_citizen"]).post(f"/api/v1/reuse-grants/{grant_id}/approve/").status_code == 400
    assert clerk.get(f"/api/v1/cases/{case.number}/reusable/").status_code == 403

    applicant = client_for(wf.users["citizen"])
    (pending,) = applicant.get("/api/v1/reuse-grants/").json()
    assert pending["id"] == grant_id and pending["case"] == case.number
    r = applicant.post(f"/api/v1/reuse-grants/{grant_id}/approve/")
    assert r.status_code == 200 and r.json()["channel"] == "applicant_session"
    assert clerk.get(f"/api/v1/cases/{case.number}/reusable/").status_code == 200
    assert applicant.post(f"/api/v1/reuse-grants/{grant_id}/approve/").status_code == 400  # once


def test_no_verified_holder_means_nothing_to_reuse_and_nobody_to_ask(wf, delivered, make_user):
    from accounts.protect import lookup_hash, protect

    # A squatter who only declared 张三's number (no evidence) applies online in her name.
    squatter = make_user(
        real_name="张三",
        phone="13700000002",
        id_number_protected=protect(wf.applicant_id),
        id_number_hash=lookup_hash(wf.applicant_id),
    )
    draft = wf_actions.create_online(
        actor=squatter, item=wf.items["proxy"], jurisdiction=wf.regions["520103"], delivery_method="electronic"
    )
    assert draft.applicant_id_needs_review is True  # the authority sees an unverified identity
    rows = client_for(squatter).get(f"/api/v1/cases/{draft.number}/reusable/").json()
    assert all(not r["e_licences"] and not r["shared_materials"] for r in rows)
    _first, licence = delivered
    r = client_for(squatter).post(
        f"/api/v1/cases/{draft.number}/materials/",
        {"requirement": "lease", "e_license": str(licence.result_id), "consent": True},
        format="json",
    )
    assert r.status_code == 400 and not draft.materials.exists()
    # A window case for a number nobody holds verified: no one can be asked.
    stranger = wf.receive(
        clerk="gy_clerk",
        receiving_hall=wf.halls["guiyang"],
        applicant=ApplicantInput("王五", id_number("52010219900307123"), "13700000003"),
    )
    r = client_for(wf.users["gy_clerk"]).post(f"/api/v1/cases/{stranger.number}/reuse-grants/", {}, format="json")
    assert r.status_code == 400 and "实名核验" in r.content.decode()
