"""Issue 11 finding 1: ID-number squatting.

Before: any phone could log in and bind any well-formed ID number that had no account yet; every
case a window later received for that number was linked to the squatter by the ID hash alone (read
it, withdraw it), and the squatter saw the real person's e-licence library. Now a binding needs
evidence (accounts.realname) and a case links only by the ID number AND that number's verified phone.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import IdentityClaim, User
from tests.accounts.realname_standin import RealNameStandin
from tests.fixtures.accounts import last_code
from tests.fixtures.workflows import id_number
from tests.licences.helpers import on_commit, signing_keys  # noqa: F401
from workflows import actions as wf_actions
from workflows.actions import ApplicantInput
from workflows.models import Case

VICTIM_ID = id_number("52010219850505123")
VICTIM_PHONE = "13985012399"
SQUATTER_PHONE = "13985012300"


def login(api: APIClient, capture, phone: str, **extra: str):
    with capture(execute=True):
        assert api.post("/api/v1/auth/otp/", {"phone": phone}, format="json").status_code == 202
    return api.post("/api/v1/auth/otp/verify/", {"phone": phone, "code": last_code(phone), **extra}, format="json")


def token_client(token: str) -> APIClient:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return c


@pytest.fixture
def standin(settings):
    s = RealNameStandin().start()
    settings.REAL_NAME_SERVICE = "accounts.realname.HttpRealNameService"
    settings.REAL_NAME_SERVICE_URL = s.url
    settings.REAL_NAME_SERVICE_KEY = s.key
    yield s
    s.stop()


def _delivered_for_victim(wf, drive, on_commit):  # noqa: F811
    case = wf.receive(applicant=ApplicantInput(name="赵六", id_number=VICTIM_ID, phone=VICTIM_PHONE))
    wf.upload_required(case)
    case = on_commit(drive, case, "approved")
    case = on_commit(wf_actions.print_result, case=case, actor=wf.users["zy_printer"])
    return on_commit(wf_actions.hand_over, case=case, actor=wf.users["zy_printer"])


def test_a_squatted_id_number_opens_nothing(wf, drive, on_commit, django_capture_on_commit_callbacks):  # noqa: F811
    from licences.models import ELicence

    api = APIClient()
    # The squatter binds the victim's number first (no national service: no evidence either way).
    resp = login(api, django_capture_on_commit_callbacks, SQUATTER_PHONE, name="赵六", id_number=VICTIM_ID)
    assert resp.status_code == 200, resp.content
    squatter = token_client(resp.json()["token"])
    assert squatter.get("/api/v1/auth/me/").json()["id_verified"] is False

    # A window then receives (and delivers) a case for the real person, who gives their own phone.
    case = wf.receive(applicant=ApplicantInput(name="赵六", id_number=VICTIM_ID, phone=VICTIM_PHONE))
    assert case.applicant_id is None  # before: linked to the squatter by the ID hash alone
    live = case
    done = _delivered_for_victim(wf, drive, on_commit)
    assert ELicence.objects.filter(result__case=done).exists()

    for number in (live.number, done.number):
        assert squatter.get(f"/api/v1/cases/{number}/").status_code == 404
    r = squatter.post(f"/api/v1/cases/{live.number}/transitions/withdraw/", {}, format="json")
    assert r.status_code == 404 and Case.objects.get(pk=live.pk).state == "received"
    assert squatter.get("/api/v1/e-licences/").json()["count"] == 0
    assert squatter.get("/api/v1/cases/").json()["count"] == 0

    # The real person logs in from the phone the window recorded: the window's record is the
    # evidence; the cases and the library are theirs, the squatter's declaration does not block it.
    resp = login(APIClient(), django_capture_on_commit_callbacks, VICTIM_PHONE, name="赵六", id_number=VICTIM_ID)
    assert resp.status_code == 200, resp.content
    victim_user = User.objects.get(phone=VICTIM_PHONE)
    assert victim_user.id_verified_via == "window_record" and victim_user.id_verified_at is not None
    victim = token_client(resp.json()["token"])
    assert victim.get(f"/api/v1/cases/{done.number}/").status_code == 200
    assert victim.get("/api/v1/e-licences/").json()["count"] == 1
    assert squatter.get(f"/api/v1/cases/{done.number}/").status_code == 404
    # Later window cases link to the verified account (ID AND its phone)...
    assert wf.receive(applicant=ApplicantInput("赵六", VICTIM_ID, VICTIM_PHONE)).applicant_id == victim_user.pk
    # ...never by the number alone.
    assert wf.receive(applicant=ApplicantInput("赵六", VICTIM_ID, "13700000000")).applicant_id is None


def test_conflicting_claims_are_refused_and_flagged_never_merged(wf, drive, django_capture_on_commit_callbacks):
    # The window checked 赵六's ID card with her phone; she has no account yet.
    drive(wf.receive(applicant=ApplicantInput("赵六", VICTIM_ID, VICTIM_PHONE)), "transferred")
    resp = login(APIClient(), django_capture_on_commit_callbacks, SQUATTER_PHONE, name="赵六", id_number=VICTIM_ID)
    assert resp.status_code == 400
    message = resp.json()["errors"]["id_number"][0]
    assert "窗口" in message and "其他手机号" in message
    assert not User.objects.filter(phone=SQUATTER_PHONE).exists()  # nothing bound, no account
    claim = IdentityClaim.objects.get(phone=SQUATTER_PHONE)
    assert claim.reason == "record_mismatch" and claim.resolved_at is None and VICTIM_ID not in claim.id_number_masked

    # A retry counts on the same open claim.
    login(APIClient(), django_capture_on_commit_callbacks, SQUATTER_PHONE, name="赵六", id_number=VICTIM_ID)
    assert IdentityClaim.objects.get(phone=SQUATTER_PHONE).attempts == 2

    # Once verified for her phone, another phone's claim is refused as bound elsewhere.
    assert (
        login(
            APIClient(), django_capture_on_commit_callbacks, VICTIM_PHONE, name="赵六", id_number=VICTIM_ID
        ).status_code
        == 200
    )
    resp = login(APIClient(), django_capture_on_commit_callbacks, "13985012301", name="赵六", id_number=VICTIM_ID)
    assert resp.status_code == 400 and "已绑定" in resp.json()["errors"]["id_number"][0]
    assert IdentityClaim.objects.filter(phone="13985012301", reason="bound_elsewhere").exists()

    # Clerks and supervisors see the open claims (masked); others may not.
    clerk = APIClient()
    clerk.force_authenticate(wf.users["gy_clerk"])
    rows = clerk.get("/api/v1/identity/claims/").json()["results"]
    assert {r["reason"] for r in rows} == {"record_mismatch", "bound_elsewhere"}
    assert SQUATTER_PHONE not in str(rows) and VICTIM_ID not in str(rows)
    approver = APIClient()
    approver.force_authenticate(wf.users["yy_approver"])
    assert approver.get("/api/v1/identity/claims/").status_code == 403


def test_the_national_real_name_service_decides_when_it_knows(wf, standin, django_capture_on_commit_callbacks):
    standin.people[VICTIM_ID] = ("赵六", VICTIM_PHONE)
    resp = login(APIClient(), django_capture_on_commit_callbacks, SQUATTER_PHONE, name="赵六", id_number=VICTIM_ID)
    assert resp.status_code == 400 and "实名核验未通过" in resp.json()["errors"]["id_number"][0]
    assert IdentityClaim.objects.get(phone=SQUATTER_PHONE).reason == "service_mismatch"
    assert not User.objects.filter(phone=SQUATTER_PHONE).exists()

    resp = login(APIClient(), django_capture_on_commit_callbacks, VICTIM_PHONE, name="赵六", id_number=VICTIM_ID)
    assert resp.status_code == 200
    assert User.objects.get(phone=VICTIM_PHONE).id_verified_via == "real_name_service"
    assert standin.requests and all(r["authorized"] for r in standin.requests)
    assert standin.requests[-1]["body"] == {"name": "赵六", "id_number": VICTIM_ID, "phone": VICTIM_PHONE}

    # A service outage verifies nobody: the binding stays a declaration.
    standin.stop()
    other_id = id_number("52010219860606123")
    resp = login(APIClient(), django_capture_on_commit_callbacks, "13985012302", name="钱七", id_number=other_id)
    assert resp.status_code == 200
    assert User.objects.get(phone="13985012302").id_verified_at is None


def test_a_clerk_confirms_a_binding_at_a_window(wf, django_capture_on_commit_callbacks):
    resp = login(APIClient(), django_capture_on_commit_callbacks, VICTIM_PHONE, name="赵六", id_number=VICTIM_ID)
    assert resp.status_code == 200
    citizen = User.objects.get(phone=VICTIM_PHONE)
    assert citizen.id_verified_at is None
    case = wf.receive(applicant=ApplicantInput("赵六", VICTIM_ID, VICTIM_PHONE))
    assert case.applicant_id is None  # received, ID card not yet checked: not evidence, not linked

    body = {"phone": VICTIM_PHONE, "id_number": VICTIM_ID, "name": "赵六"}
    approver = APIClient()
    approver.force_authenticate(wf.users["yy_approver"])
    assert approver.post("/api/v1/identity/confirm/", {**body, "id_checked": True}, format="json").status_code == 403
    clerk = APIClient()
    clerk.force_authenticate(wf.users["gy_clerk"])
    r = clerk.post("/api/v1/identity/confirm/", body, format="json")
    assert r.status_code == 400 and "id_checked" in r.json()["errors"]
    r = clerk.post("/api/v1/identity/confirm/", {**body, "phone": "13900000000", "id_checked": True}, format="json")
    assert r.status_code == 400 and "phone" in r.json()["errors"]
    citizen.refresh_from_db()
    assert citizen.id_verified_at is None

    r = clerk.post("/api/v1/identity/confirm/", {**body, "id_checked": True}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["id_verified_via"] == "window_clerk" and VICTIM_ID not in r.content.decode()
    citizen.refresh_from_db()
    assert citizen.id_verified_by == wf.users["gy_clerk"]
    assert Case.objects.get(pk=case.pk).applicant_id == citizen.pk  # now it is hers


def test_a_clerk_whose_post_ended_cannot_confirm_a_binding(wf, django_capture_on_commit_callbacks):
    """Being a window clerk is not enough: the post must be active (halls answers through
    accounts.extensions.on_duty). Nothing is changed by the refusal."""
    assert login(APIClient(), django_capture_on_commit_callbacks, VICTIM_PHONE, name="赵六", id_number=VICTIM_ID)
    clerk_user = wf.users["gy_clerk"]
    clerk_user.posts.update(is_active=False)
    clerk = APIClient()
    clerk.force_authenticate(User.objects.get(pk=clerk_user.pk))  # a fresh object: no cached posts
    body = {"phone": VICTIM_PHONE, "id_number": VICTIM_ID, "name": "赵六", "id_checked": True}
    assert clerk.post("/api/v1/identity/confirm/", body, format="json").status_code == 403
    assert User.objects.get(phone=VICTIM_PHONE).id_verified_at is None
