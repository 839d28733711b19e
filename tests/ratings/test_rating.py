"""Rating a case (一事一评) and a visit (一次一评): who, when, once, and what gets recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from ratings import actions, tally
from ratings.actions import RatingConflict, RatingInput
from ratings.models import HallDayTally, HallTally, PadToken, Rating, RegionDayTally, WindowDayTally
from tests.ratings.conftest import local

pytestmark = pytest.mark.django_db


def url(case) -> str:
    return f"/api/v1/cases/{case.number}/rating/"


def test_applicant_rates_delivered_case_with_attribution(wf, deliver, api_client):
    case = deliver()
    api_client.force_authenticate(wf.users["citizen"])
    resp = api_client.post(
        url(case), {"level": 5, "comment": "很快", "indicators": {"efficiency": 5, "convenience": 4}}, format="json"
    )
    assert resp.status_code == 201, resp.json()
    body = resp.json()
    assert body["level"] == 5 and body["level_label"] == "非常满意" and body["channel"] == "online"
    rating = Rating.objects.get(case=case)
    assert rating.kind == "case" and rating.rater == wf.users["citizen"]
    # Served by 遵义's hall, window 1, the receiving clerk; the item; the hall's county.
    assert rating.hall == wf.halls["zunyi"] and rating.window == wf.windows["zy_tongban"]
    assert rating.staff == wf.users["zy_clerk"] and rating.item == case.item
    assert (rating.province_code, rating.city_code, rating.county_code) == ("52", "5203", "520302")
    assert rating.indicators == {"overall": 5, "efficiency": 5, "convenience": 4}
    assert not hasattr(rating, "rectification") or not Rating.objects.filter(rectification__isnull=False).exists()
    # Tallies moved in the same transaction.
    assert RegionDayTally.objects.get(county_code="520302").c5 == 1
    assert HallDayTally.objects.get(hall_id=wf.halls["zunyi"].pk).c5 == 1
    assert WindowDayTally.objects.get(window_id=wf.windows["zy_tongban"].pk).c5 == 1
    assert HallTally.objects.get(hall_id=wf.halls["zunyi"].pk).c5 == 1
    # GET shows it to the applicant.
    assert api_client.get(url(case)).json()["id"] == rating.pk


def test_second_rating_is_refused_409(wf, deliver, api_client):
    case = deliver()
    api_client.force_authenticate(wf.users["citizen"])
    assert api_client.post(url(case), {"level": 4}, format="json").status_code == 201
    resp = api_client.post(url(case), {"level": 1}, format="json")
    assert resp.status_code == 409
    assert resp.json()["state"] == "delivered" and "detail" in resp.json()
    assert Rating.objects.filter(case=case).count() == 1
    assert Rating.objects.get(case=case).level == 4
    assert HallTally.objects.get(hall_id=wf.halls["zunyi"].pk).c1 == 0


@pytest.mark.parametrize("state", ["approved", "ready_for_pickup"])
def test_rating_before_terminal_state_is_409(wf, deliver, api_client, state):
    case = deliver(state)
    api_client.force_authenticate(wf.users["citizen"])
    resp = api_client.post(url(case), {"level": 5}, format="json")
    assert resp.status_code == 409
    assert resp.json()["state"] == case.state
    assert not Rating.objects.exists() and not RegionDayTally.objects.exists()


def test_draft_and_withdrawn_cases_cannot_be_rated(wf, api_client):
    from workflows import actions as wf_actions

    case = wf.online()
    api_client.force_authenticate(wf.users["citizen"])
    assert api_client.post(url(case), {"level": 3}, format="json").status_code == 409
    case = wf_actions.TRANSITION_ACTIONS["withdraw"](case=case, actor=wf.users["citizen"])
    resp = api_client.post(url(case), {"level": 3}, format="json")
    assert resp.status_code == 409 and resp.json()["state"] == "withdrawn"


def test_denied_case_can_be_rated(wf, drive, api_client):
    from workflows import actions as wf_actions

    case = drive(wf.online(), "under_review")
    case = wf_actions.deny(case=case, actor=wf.users["yy_approver"], reason="材料不实", legal_basis="《行政许可法》")
    api_client.force_authenticate(wf.users["citizen"])
    assert api_client.post(url(case), {"level": 2, "comment": "不服"}, format="json").status_code == 201


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("other_citizen", 404),  # cannot even see the case
        ("zy_clerk", 403),  # sees it (received it) but is not the applicant
        ("sup_province", 403),
        ("hall_sup_zy", 403),
    ],
)
def test_only_the_applicant_rates(wf, deliver, api_client, who, status):
    case = deliver()
    api_client.force_authenticate(wf.users[who])
    resp = api_client.post(url(case), {"level": 5}, format="json")
    assert resp.status_code == status
    assert not Rating.objects.exists()


def test_anonymous_is_401(wf, deliver, api_client):
    case = deliver()
    assert api_client.post(url(case), {"level": 5}, format="json").status_code in (401, 403)
    assert not Rating.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"level": 0}, "level"),
        ({"level": 6}, "level"),
        ({"level": "很好"}, "level"),
        ({}, "level"),
        ({"level": 5, "indicators": {"attitude": 5}}, "indicators"),  # an offline indicator online
        ({"level": 5, "indicators": {"efficiency": 9}}, "indicators"),
        ({"level": 5, "comment": "差" * 1001}, "comment"),
    ],
)
def test_bad_input_is_400_and_nothing_written(wf, deliver, api_client, body, field):
    case = deliver()
    api_client.force_authenticate(wf.users["citizen"])
    resp = api_client.post(url(case), body, format="json")
    assert resp.status_code == 400, resp.json()
    assert field in resp.json()["errors"] and resp.json()["detail"]
    assert not Rating.objects.exists()


def test_action_refuses_unknown_indicator_directly(wf, deliver):
    case = deliver()
    with pytest.raises(ValidationError) as exc:
        actions.rate_case(case=case, actor=wf.users["citizen"], data=RatingInput(level=3, indicators={"x": 1}))
    assert "indicators" in exc.value.message_dict


# --- SMS reply link --------------------------------------------------------------------------------


def test_sms_link_rates_once_as_the_applicant(wf, deliver):
    case = deliver()
    token = actions.sms_link_token(case)
    rating = actions.rate_case_by_link(token=token, data=RatingInput(level=4))
    assert rating.channel == "sms_link" and rating.rater == wf.users["citizen"]
    with pytest.raises(RatingConflict):
        actions.rate_case_by_link(token=token, data=RatingInput(level=4))


def test_sms_link_forged_or_used_by_staff_is_refused(wf, deliver):
    case = deliver()
    with pytest.raises(ValidationError):
        actions.rate_case_by_link(token=actions.sms_link_token(case) + "x", data=RatingInput(level=4))
    with pytest.raises(PermissionDenied):
        actions.rate_case_by_link(
            token=actions.sms_link_token(case), data=RatingInput(level=1), session_user=wf.users["zy_clerk"]
        )
    assert not Rating.objects.exists()


# --- window pad (一次一评) ------------------------------------------------------------------------


PAD_URL = "/api/v1/ratings/pads/"


@pytest.mark.parametrize("status", ["waiting", "called", "serving", "no_show"])
def test_clerk_cannot_open_pad_for_ticket_not_yet_served(wf, make_ticket, api_client, status):
    ticket = make_ticket(status=status)
    api_client.force_authenticate(wf.users["zy_clerk"])
    resp = api_client.post(PAD_URL, {"ticket": ticket.pk}, format="json")
    assert resp.status_code == 409
    assert resp.json()["state"] == status
    assert not PadToken.objects.exists()


def test_pad_rating_by_citizen_with_token(wf, make_ticket, api_client):
    ticket = make_ticket()
    api_client.force_authenticate(wf.users["zy_clerk"])
    resp = api_client.post(PAD_URL, {"ticket": ticket.pk}, format="json")
    assert resp.status_code == 201
    token = resp.json()["token"]
    assert resp.json()["url"].endswith(f"/ratings/pad/{token}/")
    # The clerk's own session cannot submit it (not even with the token).
    resp = api_client.post("/api/v1/ratings/pad/", {"token": token, "level": 5}, format="json")
    assert resp.status_code == 403
    assert not Rating.objects.exists()
    # The citizen-facing screen (no login) can, once.
    api_client.force_authenticate(None)
    resp = api_client.post(
        "/api/v1/ratings/pad/", {"token": token, "level": 4, "indicators": {"attitude": 5}}, format="json"
    )
    assert resp.status_code == 201, resp.json()
    rating = Rating.objects.get(ticket=ticket)
    assert rating.kind == "visit" and rating.channel == "window_pad"
    assert rating.hall == wf.halls["zunyi"] and rating.window == wf.windows["zy_tongban"]
    assert rating.staff == wf.users["zy_clerk"] and rating.indicators == {"attitude": 5, "overall": 4}
    resp = api_client.post("/api/v1/ratings/pad/", {"token": token, "level": 1}, format="json")
    assert resp.status_code == 409
    # And the clerk cannot reopen a pad for an already rated visit.
    api_client.force_authenticate(wf.users["zy_clerk"])
    assert api_client.post(PAD_URL, {"ticket": ticket.pk}, format="json").status_code == 409


def test_pad_refuses_staff_sessions_even_other_halls(wf, make_ticket):
    ticket = make_ticket()
    _pad, raw = actions.open_pad(ticket=ticket, actor=wf.users["zy_clerk"])
    for who in ("zy_clerk", "gy_clerk", "hall_sup_zy", "sup_province"):
        with pytest.raises(PermissionDenied):
            actions.rate_visit(token=raw, data=RatingInput(level=5), session_user=wf.users[who])
    assert not Rating.objects.exists()


def test_pad_offline_indicators_only(wf, make_ticket):
    ticket = make_ticket()
    _pad, raw = actions.open_pad(ticket=ticket, actor=wf.users["zy_clerk"])
    with pytest.raises(ValidationError):
        actions.rate_visit(token=raw, data=RatingInput(level=5, indicators={"platform_usability": 5}))


def test_pad_token_expires_and_unknown_token(wf, make_ticket):
    ticket = make_ticket()
    pad, raw = actions.open_pad(ticket=ticket, actor=wf.users["zy_clerk"], at=local(2026, 3, 2, 9))
    with pytest.raises(RatingConflict):
        actions.rate_visit(token=raw, data=RatingInput(level=5), at=pad.expires_at + dt.timedelta(seconds=1))
    with pytest.raises(ValidationError):
        actions.rate_visit(token="not-a-token", data=RatingInput(level=5))
    assert not Rating.objects.exists()


def test_pad_only_for_staff_of_that_hall(wf, make_ticket, api_client):
    ticket = make_ticket()
    api_client.force_authenticate(wf.users["gy_clerk"])
    assert api_client.post(PAD_URL, {"ticket": ticket.pk}, format="json").status_code == 403
    api_client.force_authenticate(wf.users["citizen"])
    assert api_client.post(PAD_URL, {"ticket": ticket.pk}, format="json").status_code == 403
    assert not PadToken.objects.exists()


def test_pad_refuses_ticket_that_is_no_longer_done(wf, make_ticket):
    from halls.models import QueueTicket

    ticket = make_ticket()
    _pad, raw = actions.open_pad(ticket=ticket, actor=wf.users["zy_clerk"])
    QueueTicket.objects.filter(pk=ticket.pk).update(status="transferred")
    with pytest.raises(RatingConflict):
        actions.rate_visit(token=raw, data=RatingInput(level=5))


# --- tallies ---------------------------------------------------------------------------------------


def test_rebuild_matches_incremental_tallies(wf, deliver, make_ticket, online_delivered):
    actions.rate_case(case=deliver(), actor=wf.users["citizen"], data=RatingInput(level=2))
    actions.rate_case(case=online_delivered(), actor=wf.users["citizen"], data=RatingInput(level=5))
    for level in (1, 3, 4):
        _pad, raw = actions.open_pad(ticket=make_ticket(), actor=wf.users["zy_clerk"])
        actions.rate_visit(token=raw, data=RatingInput(level=level))

    def snapshot() -> dict[str, list[tuple]]:
        fields = ("c1", "c2", "c3", "c4", "c5")
        return {
            "region": sorted(RegionDayTally.objects.values_list("day", "county_code", *fields)),
            "hall": sorted(HallDayTally.objects.values_list("day", "hall_id", *fields)),
            "window": sorted(WindowDayTally.objects.values_list("day", "window_id", *fields)),
            "total": sorted(HallTally.objects.values_list("hall_id", *fields)),
        }

    before = snapshot()
    tally.rebuild()
    assert snapshot() == before
    assert sum(before["region"][0][2:]) + sum(before["region"][1][2:]) == 5 if len(before["region"]) == 2 else True


def test_hall_api_shows_rating_figures(wf, deliver, make_ticket):
    from halls.hall_stats import stats_for_halls

    actions.rate_case(case=deliver(), actor=wf.users["citizen"], data=RatingInput(level=2))
    _pad, raw = actions.open_pad(ticket=make_ticket(), actor=wf.users["zy_clerk"])
    actions.rate_visit(token=raw, data=RatingInput(level=5))
    stats = stats_for_halls([wf.halls["zunyi"].pk, wf.halls["guiyang"].pk])
    zy = stats[wf.halls["zunyi"].pk]
    assert (zy["rating_avg"], zy["rating_count"], zy["bad_count"]) == (3.5, 2, 1)
    assert stats[wf.halls["guiyang"].pk]["rating_count"] == 0
