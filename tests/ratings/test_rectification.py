"""Rectification of bad ratings: deadline in working days, the flow, escalation, appeals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from notifications.models import OutboxMessage
from ratings import actions
from ratings.actions import RatingConflict, RatingInput
from ratings.models import Appeal, HallTally, Rating, Rectification, RegionDayTally
from tests.ratings.conftest import local
from workdays import calendar

pytestmark = pytest.mark.django_db


def bad_rating(wf, case, level: int = 1, at: dt.datetime | None = None) -> Rating:
    return actions.rate_case(
        case=case, actor=wf.users["citizen"], data=RatingInput(level=level, comment="态度差"), at=at
    )


@pytest.mark.parametrize("level", [1, 2])
def test_bad_rating_opens_rectification_assigned_to_hall_supervisor(wf, deliver, level):
    rating = bad_rating(wf, deliver(), level)
    rect = rating.rectification
    assert rect.state == "open" and rect.assignee == wf.users["hall_sup_zy"]
    assert rect.hall == wf.halls["zunyi"] and rect.county_code == "520302"
    assert rect.events.get().kind == "open"


@pytest.mark.parametrize("level", [3, 4, 5])
def test_good_ratings_open_nothing(wf, deliver, level):
    rating = bad_rating(wf, deliver(), level)
    assert not Rectification.objects.filter(rating=rating).exists()


def test_deadline_is_15_working_days_across_national_day_2026(wf, deliver):
    # 2026 schedule (国办发明电〔2025〕7号, as in chinese-calendar 1.11): 中秋 Sep 25-27 and 国庆
    # Oct 1-7 off; Sunday Sep 20 and Saturday Oct 10 are make-up working days.
    assert calendar.is_workday(dt.date(2026, 9, 20)) and calendar.is_workday(dt.date(2026, 10, 10))
    assert not calendar.is_workday(dt.date(2026, 9, 25)) and not calendar.is_workday(dt.date(2026, 10, 7))
    rating = bad_rating(wf, deliver(), at=local(2026, 9, 18, 16, 30))  # a Friday
    rect = rating.rectification
    # Sep 20(1) 21-24(2-5) 28-30(6-8) Oct 8(9) 9(10) 10(11) 12-15(12-15).
    assert calendar.local_date(rect.deadline) == dt.date(2026, 10, 15)
    assert rect.deadline == dt.datetime.combine(dt.date(2026, 10, 15), dt.time.max, tzinfo=local(2026, 1, 1).tzinfo)
    # Plain Monday-Friday counting would say Oct 9: the holiday calendar matters.
    day, n = dt.date(2026, 9, 18), 0
    while n < 15:
        day += dt.timedelta(days=1)
        n += day.weekday() < 5
    assert day == dt.date(2026, 10, 9)


def test_deadline_days_is_a_setting(wf, deliver, settings):
    settings.RECTIFICATION_DAYS = 5
    rect = bad_rating(wf, deliver(), at=local(2026, 9, 29, 10)).rectification
    # Sep 30(1), Oct 8(2), 9(3), 10 make-up Saturday(4), 12(5).
    assert calendar.local_date(rect.deadline) == dt.date(2026, 10, 12)


def test_admin_holiday_override_moves_the_deadline(wf, deliver):
    from workdays.models import HolidayOverride

    HolidayOverride.objects.create(date=dt.date(2026, 10, 12), is_workday=False, note="测试：临时放假")
    calendar.invalidate_overrides()
    rect = bad_rating(wf, deliver(), at=local(2026, 9, 18, 16, 30)).rectification
    assert calendar.local_date(rect.deadline) == dt.date(2026, 10, 16)


def transition(api_client, rect, name, body=None):
    return api_client.post(f"/api/v1/rectifications/{rect.pk}/{name}/", body or {}, format="json")


def test_full_flow_reply_sms_callback_close(wf, deliver, api_client):
    case = deliver()
    rect = bad_rating(wf, case).rectification
    api_client.force_authenticate(wf.users["hall_sup_zy"])
    listed = api_client.get("/api/v1/rectifications/").json()
    assert [r["id"] for r in listed["results"]] == [rect.pk]
    assert listed["results"][0]["available_transitions"] == ["start", "reply"]

    resp = transition(api_client, rect, "start", {"measures": "窗口人员培训"})
    assert resp.status_code == 200 and resp.json()["state"] == "rectifying"
    # Reply text is required.
    resp = transition(api_client, rect, "reply", {"reply": "  "})
    assert resp.status_code == 400 and "reply" in resp.json()["errors"]
    assert Rectification.objects.get(pk=rect.pk).state == "rectifying"
    resp = transition(api_client, rect, "reply", {"reply": "已对窗口人员批评教育并加强培训"})
    assert resp.status_code == 200 and resp.json()["state"] == "replied"
    assert resp.json()["replied_on_time"] is True
    sms = OutboxMessage.objects.get(template="rectification_reply")
    assert case.number in sms.body and "加强培训" in sms.body and sms.to.endswith("13800138000")
    # Closing before the callback is refused with what is allowed.
    resp = transition(api_client, rect, "close")
    assert resp.status_code == 409
    assert resp.json()["state"] == "replied" and resp.json()["allowed"] == ["record_callback"]
    resp = transition(api_client, rect, "record_callback", {"result": "maybe"})
    assert resp.status_code == 400
    resp = transition(api_client, rect, "record_callback", {"result": "satisfied", "note": "电话回访，表示满意"})
    assert resp.status_code == 200 and resp.json()["callback_result"] == "satisfied"
    resp = transition(api_client, rect, "close")
    assert resp.status_code == 200 and resp.json()["state"] == "closed"
    kinds = list(Rectification.objects.get(pk=rect.pk).events.values_list("kind", flat=True))
    assert kinds == ["open", "start", "reply", "record_callback", "close"]
    assert transition(api_client, rect, "nonsense").status_code == 404


def test_unsatisfied_callback_reopens_and_second_reply_texts_again(wf, deliver):
    rect = bad_rating(wf, deliver()).rectification
    sup = wf.users["hall_sup_zy"]
    actions.transition_rectification(rectification=rect, actor=sup, name="reply", body={"reply": "第一次答复"})
    actions.transition_rectification(
        rectification=rect, actor=sup, name="record_callback", body={"result": "unsatisfied"}
    )
    actions.transition_rectification(rectification=rect, actor=sup, name="reopen", body={"reason": "群众不满意"})
    assert rect.state == "rectifying"
    actions.transition_rectification(rectification=rect, actor=sup, name="reply", body={"reply": "第二次答复"})
    assert OutboxMessage.objects.filter(template="rectification_reply").count() == 2


def test_stale_writer_gets_409(wf, deliver):
    rect = bad_rating(wf, deliver()).rectification
    stale = Rectification.objects.get(pk=rect.pk)
    actions.transition_rectification(rectification=rect, actor=wf.users["hall_sup_zy"], name="start")
    with pytest.raises(RatingConflict) as exc:
        actions.transition_rectification(rectification=stale, actor=wf.users["sup_zunyi"], name="start")
    assert exc.value.state == "rectifying"
    assert Rectification.objects.get(pk=rect.pk).events.filter(kind="start").count() == 1


@pytest.mark.parametrize(("who", "status"), [("sup_guiyang", 404), ("zy_clerk", 403), ("citizen", 403)])
def test_outsiders_cannot_touch_rectifications(wf, deliver, api_client, who, status):
    rect = bad_rating(wf, deliver()).rectification
    api_client.force_authenticate(wf.users[who])
    assert transition(api_client, rect, "start").status_code in (status, 404)
    assert api_client.get("/api/v1/rectifications/").status_code in (200, 403)
    if status == 404:
        assert api_client.get("/api/v1/rectifications/").json()["results"] == []
    assert Rectification.objects.get(pk=rect.pk).state == "open"


def test_city_and_province_supervisors_may_act(wf, deliver):
    rect = bad_rating(wf, deliver()).rectification
    actions.transition_rectification(rectification=rect, actor=wf.users["sup_zunyi"], name="start")
    actions.transition_rectification(
        rectification=rect, actor=wf.users["sup_province"], name="reply", body={"reply": "省级督办答复"}
    )
    with pytest.raises(PermissionDenied):
        actions.transition_rectification(
            rectification=rect, actor=wf.users["sup_guiyang"], name="record_callback", body={"result": "satisfied"}
        )


# --- escalation ------------------------------------------------------------------------------------


def test_overdue_rectifications_escalate_to_city_then_province(wf, deliver, settings):
    settings.RECTIFICATION_PROVINCE_ESCALATION_DAYS = 5
    overdue = bad_rating(wf, deliver(), at=local(2026, 9, 18, 10)).rectification  # due Oct 15
    answered = bad_rating(wf, deliver(), at=local(2026, 9, 18, 11)).rectification
    actions.transition_rectification(
        rectification=answered,
        actor=wf.users["hall_sup_zy"],
        name="reply",
        body={"reply": "已整改"},
        at=local(2026, 10, 14, 9),
    )
    # Before the deadline: nothing.
    assert actions.escalate_overdue(now=local(2026, 10, 15, 23)) == {"city": 0, "province": 0}
    # The day after: the city.
    assert actions.escalate_overdue(now=local(2026, 10, 16, 9)) == {"city": 1, "province": 0}
    overdue.refresh_from_db()
    assert overdue.escalation_level == 1 and overdue.escalated_at == local(2026, 10, 16, 9)
    # Idempotent.
    assert actions.escalate_overdue(now=local(2026, 10, 16, 10)) == {"city": 0, "province": 0}
    # 5 working days after the deadline (Oct 22) has passed: the province.
    assert calendar.local_date(overdue.province_escalate_at) == dt.date(2026, 10, 22)
    assert actions.escalate_overdue(now=local(2026, 10, 22, 23)) == {"city": 0, "province": 0}
    assert actions.escalate_overdue(now=local(2026, 10, 23, 9)) == {"city": 0, "province": 1}
    overdue.refresh_from_db()
    assert overdue.escalation_level == 2
    assert list(overdue.events.values_list("kind", flat=True)) == ["open", "escalate_city", "escalate_province"]
    answered.refresh_from_db()
    assert answered.escalation_level == 0 and answered.replied_on_time is True
    # Escalated ones are listed for the supervisors above.
    from ratings.selectors import rectification_list

    assert list(rectification_list(wf.users["sup_province"], escalated=True)) == [overdue]


def test_late_reply_counts_as_not_on_time(wf, deliver):
    rect = bad_rating(wf, deliver(), at=local(2026, 9, 18, 10)).rectification
    actions.transition_rectification(
        rectification=rect,
        actor=wf.users["hall_sup_zy"],
        name="reply",
        body={"reply": "迟到的答复"},
        at=local(2026, 10, 16, 9),
    )
    assert rect.replied_on_time is False


def test_escalation_task_runs(wf, deliver):
    from ratings.tasks import escalate_overdue_rectifications

    bad_rating(wf, deliver(), at=local(2025, 1, 6, 10))
    assert escalate_overdue_rectifications.apply().get() == {"city": 0, "province": 1}


# --- appeals ---------------------------------------------------------------------------------------


def test_upheld_appeal_leaves_statistics_but_keeps_the_record(wf, deliver, api_client):
    rating = bad_rating(wf, deliver())
    api_client.force_authenticate(wf.users["sup_province"])
    before = api_client.get("/api/v1/ratings/summary/").json()
    assert before["count"] == 1 and before["bad_count"] == 1

    api_client.force_authenticate(wf.users["zy_clerk"])
    resp = api_client.post(f"/api/v1/ratings/{rating.pk}/appeal/", {"reason": "评价人当场辱骂，有录像"}, format="json")
    assert resp.status_code == 201
    appeal_id = resp.json()["id"]
    # One pending appeal at a time.
    assert (
        api_client.post(f"/api/v1/ratings/{rating.pk}/appeal/", {"reason": "再次申诉"}, format="json").status_code
        == 409
    )
    # The hall's own people do not decide.
    api_client.force_authenticate(wf.users["hall_sup_zy"])
    assert api_client.post(f"/api/v1/appeals/{appeal_id}/uphold/", {}, format="json").status_code == 403
    # A supervisor of another city cannot see it.
    api_client.force_authenticate(wf.users["sup_guiyang"])
    assert api_client.post(f"/api/v1/appeals/{appeal_id}/uphold/", {}, format="json").status_code == 404
    api_client.force_authenticate(wf.users["sup_zunyi"])
    resp = api_client.post(f"/api/v1/appeals/{appeal_id}/uphold/", {"note": "经核实属恶意评价"}, format="json")
    assert resp.status_code == 200 and resp.json()["state"] == "upheld"
    assert api_client.post(f"/api/v1/appeals/{appeal_id}/dismiss/", {}, format="json").status_code == 409

    rating.refresh_from_db()
    assert rating.counted is False and rating.level == 1  # still on record
    assert rating.rectification.counted is False
    after = api_client.get("/api/v1/ratings/summary/").json()
    assert after["count"] == 0 and after["bad_count"] == 0 and after["by_level"]["1"] == 0
    assert HallTally.objects.get(hall_id=wf.halls["zunyi"].pk).c1 == 0
    assert RegionDayTally.objects.get(county_code="520302").c1 == 0
    # Excluded ones are not escalated and cannot be appealed again.
    assert actions.escalate_overdue(now=local(2030, 1, 1)) == {"city": 0, "province": 0}
    with pytest.raises(RatingConflict):
        actions.file_appeal(rating=rating, actor=wf.users["zy_clerk"], reason="再次")


def test_dismissed_appeal_keeps_rating_counted(wf, deliver):
    rating = bad_rating(wf, deliver())
    appeal = actions.file_appeal(rating=rating, actor=wf.users["zy_clerk"], reason="恶意")
    actions.decide_appeal(appeal=appeal, actor=wf.users["sup_province"], uphold=False, note="证据不足")
    rating.refresh_from_db()
    assert rating.counted is True
    assert Appeal.objects.get(pk=appeal.pk).state == "dismissed"
    # A new appeal may follow a dismissed one.
    actions.file_appeal(rating=rating, actor=wf.users["zy_clerk"], reason="补充证据")


def test_appeal_needs_reason_and_right_person(wf, deliver, api_client):
    rating = bad_rating(wf, deliver())
    api_client.force_authenticate(wf.users["zy_clerk"])
    resp = api_client.post(f"/api/v1/ratings/{rating.pk}/appeal/", {"reason": ""}, format="json")
    assert resp.status_code == 400
    for who in ("gy_clerk", "citizen"):
        api_client.force_authenticate(wf.users[who])
        assert (
            api_client.post(f"/api/v1/ratings/{rating.pk}/appeal/", {"reason": "x"}, format="json").status_code == 404
        )
    assert not Appeal.objects.exists()
