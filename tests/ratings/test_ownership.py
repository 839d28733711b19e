"""Every bad rating has an owner (a hall or the competent department) and a named responsible post.

Online cases are served by no hall: their bad ratings go to the department that decided them, whose
approver holds the post, can see the rectification and answer it. The rectification's record shows
the states by their labels, never by their codes.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from accounts.models import Role, User
from ratings import actions
from ratings.actions import RatingInput
from ratings.models import Rectification

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def rate(wf, case, level: int = 1):
    return actions.rate_case(case=case, actor=wf.users["citizen"], data=RatingInput(level=level, comment="太慢"))


def test_bad_rating_of_an_online_case_is_owned_by_the_competent_department(wf, online_delivered):
    case = online_delivered()
    assert case.mode == "online" and case.receiving_hall_id is None
    rating = rate(wf, case, 1)
    assert rating.hall_id is None  # nobody at a hall served this applicant
    rect = rating.rectification
    assert rect.department == case.authority == wf.departments["yy_market"]
    assert rect.owner_name == "云岩区市场监管局"
    assert rect.responsible_post == "云岩区市场监管局 审批岗"
    # The post's holder: the department's first active approver (a stable, named person).
    assert rect.assignee == wf.users["yy_approver"]
    assert rect.county_code == "520103"


def test_the_post_stays_named_when_nobody_holds_it(wf, online_delivered):
    case = online_delivered()
    User.objects.filter(department=wf.departments["yy_market"]).update(is_active=False)
    rect = rate(wf, case, 2).rectification
    assert rect.assignee is None
    assert rect.department == wf.departments["yy_market"] and rect.responsible_post == "云岩区市场监管局 审批岗"
    page = client_for(wf.users["sup_guiyang"]).get(f"/supervision/rectifications/{rect.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "云岩区市场监管局 审批岗" in body and "岗位空缺" in body


def test_a_case_received_at_a_hall_is_owned_by_the_hall(wf, deliver):
    rect = rate(wf, deliver(), 1).rectification
    assert rect.department is None and rect.hall == wf.halls["zunyi"]
    assert rect.owner_name == wf.halls["zunyi"].name
    assert rect.responsible_post == f"{wf.halls['zunyi'].name} 大厅监督岗"
    assert rect.assignee == wf.users["hall_sup_zy"]


def test_a_visit_is_owned_by_the_hall(wf, make_ticket):
    _pad, raw = actions.open_pad(ticket=make_ticket("zunyi"), actor=wf.users["zy_clerk"])
    rect = actions.rate_visit(token=raw, data=RatingInput(level=1)).rectification
    assert rect.hall == wf.halls["zunyi"] and rect.department is None
    assert rect.responsible_post.endswith("大厅监督岗")


def test_the_department_answers_for_it_and_other_departments_do_not_see_it(wf, online_delivered):
    rect = rate(wf, online_delivered(), 1).rectification
    owner = client_for(wf.users["yy_approver"])
    listing = owner.get("/supervision/rectifications/")
    assert listing.status_code == 200 and f'href="/supervision/rectifications/{rect.pk}/"' in listing.content.decode()
    assert owner.get(f"/api/v1/rectifications/{rect.pk}/").json()["responsible_post"] == "云岩区市场监管局 审批岗"
    # Another approver of the same department holds the same post.
    colleague = client_for(wf.users["yy_approver2"])
    resp = colleague.post(f"/supervision/rectifications/{rect.pk}/reply/", {"reply": "已核实，已加快审批。"})
    assert resp.status_code == 302
    rect.refresh_from_db()
    assert rect.state == "replied"
    # Another department (same kind, other county) and another department of the same county: nothing.
    for other in ("hhg_approver", "yy_health"):
        c = client_for(wf.users[other])
        assert c.get(f"/supervision/rectifications/{rect.pk}/").status_code == 404
        assert rect.pk not in [r["id"] for r in c.get("/api/v1/rectifications/").json()["results"]]
    # A window clerk is no supervisor and owns nothing.
    assert client_for(wf.users["gy_clerk"]).get("/supervision/rectifications/").status_code == 403


def test_the_printing_hall_sees_but_does_not_own_an_online_case(wf, online_delivered):
    rating = rate(wf, online_delivered(), 1)
    # As if it had been picked up at 遵义: the hall printed it, the department decided it.
    Rectification.objects.filter(rating=rating).update(hall=wf.halls["zunyi"])
    rect = Rectification.objects.get(rating=rating)
    assert actions.allowed_transitions(wf.users["hall_sup_zy"], rect) == []
    assert "reply" in actions.allowed_transitions(wf.users["yy_approver"], rect)


def test_a_rectification_without_owner_is_refused_by_the_database(wf, online_delivered):
    rect = rate(wf, online_delivered(), 1).rectification
    with pytest.raises(IntegrityError), transaction.atomic():
        Rectification.objects.filter(pk=rect.pk).update(department=None, hall=None)


def test_the_record_shows_state_labels_not_codes(wf, deliver):
    rect = rate(wf, deliver(), 1).rectification
    sup = wf.users["sup_zunyi"]
    actions.transition_rectification(rectification=rect, actor=sup, name="start", body={"measures": "培训"})
    page = client_for(sup).get(f"/supervision/rectifications/{rect.pk}/")
    body = page.content.decode()
    assert "待整改 → 整改中" in body
    for code in ("open →", "→ rectifying", "rectifying"):
        assert code not in body, code


def test_approver_role_without_department_sees_nothing(wf):
    lost = User.objects.create_user(username="lost", password="x-Strong-Pass-1", role=Role.APPROVER)
    assert client_for(lost).get("/supervision/rectifications/").status_code == 403


def test_supervisors_land_on_supervision_and_find_it_in_the_header(wf):
    for name in ("sup_guiyang", "hall_sup_zy"):
        c = client_for(wf.users[name])
        assert c.get("/workbench/").url == "/supervision/ratings/"
        assert 'id="nav-supervision"' in c.get("/workbench/cases/").content.decode()
    assert 'id="nav-rectifications"' in client_for(wf.users["yy_approver"]).get("/").content.decode()
    assert 'id="nav-supervision"' not in client_for(wf.users["zy_clerk"]).get("/").content.decode()
    assert 'href="/ratings/public/"' in Client().get("/").content.decode()
