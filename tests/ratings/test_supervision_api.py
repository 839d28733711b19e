"""The summary API and jurisdiction: Zunyi's supervisor sees Zunyi only; the province sees all."""

from __future__ import annotations

import datetime as dt

import pytest

from notifications.models import OutboxMessage
from ratings import actions, selectors
from ratings.actions import RatingInput
from ratings.models import Invitation, Rating
from tests.ratings.conftest import local

pytestmark = pytest.mark.django_db

SUMMARY = "/api/v1/ratings/summary/"


@pytest.fixture
def two_cities(wf, deliver, online_delivered, make_ticket):
    """遵义: a case rated 1 and a visit rated 5. 贵阳: an online case rated 4 and a visit rated 2."""
    actions.rate_case(case=deliver(), actor=wf.users["citizen"], data=RatingInput(level=1))
    actions.rate_case(case=online_delivered(), actor=wf.users["citizen"], data=RatingInput(level=4))
    _pad, raw = actions.open_pad(ticket=make_ticket("zunyi"), actor=wf.users["zy_clerk"])
    actions.rate_visit(token=raw, data=RatingInput(level=5))
    _pad, raw = actions.open_pad(ticket=make_ticket("guiyang"), actor=wf.users["gy_clerk"])
    actions.rate_visit(token=raw, data=RatingInput(level=2))
    return wf


def get(api_client, user, **params):
    api_client.force_authenticate(user)
    return api_client.get(SUMMARY, params)


def test_zunyi_supervisor_sees_only_zunyi(two_cities, api_client):
    wf = two_cities
    body = get(api_client, wf.users["sup_zunyi"]).json()
    assert body["count"] == 2
    assert body["by_level"] == {"1": 1, "2": 0, "3": 0, "4": 0, "5": 1}
    assert body["satisfaction_rate"] == 0.5 and body["bad_count"] == 1
    assert body["rectified_on_time_rate"] is None  # nothing answered nor overdue yet
    assert get(api_client, wf.users["sup_zunyi"], region="520300").json()["count"] == 2
    assert get(api_client, wf.users["sup_zunyi"], region="520302").json()["count"] == 2
    assert get(api_client, wf.users["sup_zunyi"], hall="H-ZY").json()["count"] == 2


@pytest.mark.parametrize("params", [{"region": "520100"}, {"region": "520103"}, {"hall": "H-GY"}, {"region": "520000"}])
def test_zunyi_supervisor_asking_for_guiyang_gets_404(two_cities, api_client, params):
    resp = get(api_client, two_cities.users["sup_zunyi"], **params)
    assert resp.status_code == 404


def test_province_supervisor_sees_both(two_cities, api_client):
    wf = two_cities
    body = get(api_client, wf.users["sup_province"]).json()
    assert body["count"] == 4 and body["bad_count"] == 2
    assert body["by_level"] == {"1": 1, "2": 1, "3": 0, "4": 1, "5": 1}
    assert body["satisfaction_rate"] == 0.5
    assert get(api_client, wf.users["sup_province"], region="520100").json()["count"] == 2
    assert get(api_client, wf.users["sup_province"], region="520300").json()["count"] == 2
    assert get(api_client, wf.users["sup_province"], hall="H-GY").json()["by_level"]["2"] == 1
    assert get(api_client, wf.users["sup_guiyang"]).json()["count"] == 2


def test_hall_supervisor_sees_own_hall(two_cities, api_client):
    wf = two_cities
    assert get(api_client, wf.users["hall_sup_zy"]).json()["count"] == 2
    assert get(api_client, wf.users["hall_sup_zy"], hall="H-GY").status_code == 404
    assert get(api_client, wf.users["hall_sup_zy"], region="520300").status_code == 404


@pytest.mark.parametrize("who", ["citizen", "zy_clerk", "yy_approver"])
def test_non_supervisors_get_403(two_cities, api_client, who):
    assert get(api_client, two_cities.users[who]).status_code == 403


def test_unknown_region_404_and_bad_dates_400(two_cities, api_client):
    sup = two_cities.users["sup_province"]
    assert get(api_client, sup, region="999999").status_code == 404
    resp = get(api_client, sup, **{"from": "2026-13-01"})
    assert resp.status_code == 400 and "from" in resp.json()["errors"]


def test_date_range_filters(two_cities, api_client):
    sup = two_cities.users["sup_province"]
    today = Rating.objects.first().rated_on
    assert get(api_client, sup, **{"from": today.isoformat(), "to": today.isoformat()}).json()["count"] == 4
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert get(api_client, sup, **{"from": tomorrow}).json()["count"] == 0


def test_on_time_rate(two_cities, api_client):
    wf = two_cities
    zy = Rating.objects.get(hall=wf.halls["zunyi"], level=1).rectification
    actions.transition_rectification(
        rectification=zy, actor=wf.users["hall_sup_zy"], name="reply", body={"reply": "已整改"}
    )
    body = get(api_client, wf.users["sup_province"]).json()
    assert body["rectified_on_time_rate"] == 1.0  # the other one is neither answered nor overdue
    assert get(api_client, wf.users["sup_guiyang"]).json()["rectified_on_time_rate"] is None


def test_rectification_list_is_scoped(two_cities, api_client):
    wf = two_cities
    api_client.force_authenticate(wf.users["sup_zunyi"])
    rows = api_client.get("/api/v1/rectifications/").json()["results"]
    assert [r["hall"] for r in rows] == ["H-ZY"]
    api_client.force_authenticate(wf.users["sup_province"])
    assert len(api_client.get("/api/v1/rectifications/").json()["results"]) == 2
    assert len(api_client.get("/api/v1/rectifications/", {"state": "closed"}).json()["results"]) == 0
    guiyang = Rating.objects.get(level=2).rectification
    api_client.force_authenticate(wf.users["sup_zunyi"])
    assert api_client.get(f"/api/v1/rectifications/{guiyang.pk}/").status_code == 404


def test_county_satisfaction_for_the_map(two_cities, api_client):
    data = selectors.county_satisfaction()
    assert set(data) == {"520302", "520103"}
    assert data["520302"]["count"] == 2 and data["520302"]["satisfaction_rate"] == 0.5
    assert data["520103"]["by_level"]["4"] == 1 and data["520103"]["bad_count"] == 1
    resp = api_client.get("/api/v1/ratings/counties/")
    assert resp.status_code == 200 and resp.json()["520302"]["count"] == 2


def test_breakdown_and_rankings(two_cities):
    wf = two_cities
    f = selectors.resolve_filters(wf.users["sup_province"])
    level, rows = selectors.breakdown(f)
    assert level == "city" and {r["key"] for r in rows} == {"520100", "520300"}
    f = selectors.resolve_filters(wf.users["sup_province"], region="520300")
    level, rows = selectors.breakdown(f)
    assert level == "county" and [r["key"] for r in rows] == ["520302"]
    f = selectors.resolve_filters(wf.users["sup_province"], region="520302")
    level, rows = selectors.breakdown(f)
    assert level == "hall" and [r["key"] for r in rows] == ["H-ZY"]
    f = selectors.resolve_filters(wf.users["sup_province"], hall="H-ZY")
    level, rows = selectors.breakdown(f)
    assert level == "window" and [r["name"] for r in rows] == ["1号窗口"] and rows[0]["count"] == 2
    ranking = selectors.hall_ranking(selectors.resolve_filters(wf.users["sup_province"]))
    assert [r["key"] for r in ranking] == ["H-ZY", "H-GY"]  # 50% vs 0% (the online rating has no hall)


# --- invitations -----------------------------------------------------------------------------------


def test_invitation_once_after_three_days(wf, deliver, online_delivered):
    from workflows.models import Case

    case = deliver()
    finished = case.delivered_at
    assert actions.send_invitations(now=finished + dt.timedelta(days=2)) == 0
    assert actions.send_invitations(now=finished + dt.timedelta(days=3, minutes=1)) == 1
    sms = OutboxMessage.objects.get(template="rating_invitation")
    assert case.number in sms.body and case.item.name in sms.body
    # Idempotent: never a second invitation.
    assert actions.send_invitations(now=finished + dt.timedelta(days=5)) == 0
    Invitation.objects.all().delete()  # even if the row were lost, the outbox dedupe_key holds
    actions.send_invitations(now=finished + dt.timedelta(days=5))
    assert OutboxMessage.objects.filter(template="rating_invitation").count() == 1
    # A rated case is never invited.
    rated = online_delivered()
    actions.rate_case(case=rated, actor=wf.users["citizen"], data=RatingInput(level=5))
    Case.objects.filter(pk=rated.pk).update(delivered_at=local(2026, 1, 5, 10))
    assert actions.send_invitations(now=local(2026, 1, 10, 10)) == 0


def test_invitation_task_is_registered_in_beat():
    from config.celery import app

    entries = {e["task"] for e in app.conf.beat_schedule.values()}
    assert {"ratings.tasks.send_rating_invitations", "ratings.tasks.escalate_overdue_rectifications"} <= entries
