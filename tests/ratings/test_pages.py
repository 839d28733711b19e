"""The server-rendered pages: citizens rating, the window pad, supervision, export, public figures."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from ratings import actions
from ratings.actions import RatingInput
from ratings.models import Rating
from tests.fixtures.pages import without_random_tokens

pytestmark = pytest.mark.django_db


def client_for(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


@pytest.fixture
def rated(wf, deliver, online_delivered, make_ticket):
    """遵义: a case rated 1 (with rectification); 贵阳: an online case rated 4, a visit rated 5."""
    actions.rate_case(case=deliver(), actor=wf.users["citizen"], data=RatingInput(level=1, comment="等太久"))
    actions.rate_case(case=online_delivered(), actor=wf.users["citizen"], data=RatingInput(level=4))
    _pad, raw = actions.open_pad(ticket=make_ticket("guiyang"), actor=wf.users["gy_clerk"])
    actions.rate_visit(token=raw, data=RatingInput(level=5))
    return wf


def test_citizen_rates_on_the_page(wf, deliver):
    case = deliver()
    c = client_for(wf.users["citizen"])
    page = c.get(f"/ratings/cases/{case.number}/")
    assert page.status_code == 200 and "非常不满意" in page.content.decode() and "办件评价" in page.content.decode()
    bad = c.post(f"/ratings/cases/{case.number}/", {"level": "9"})
    assert bad.status_code == 400 and not Rating.objects.exists()
    resp = c.post(f"/ratings/cases/{case.number}/", {"level": "2", "ind_efficiency": "1", "comment": "慢"})
    assert resp.status_code == 302
    rating = Rating.objects.get(case=case)
    assert rating.level == 2 and rating.indicators == {"efficiency": 1, "overall": 2}
    page = c.get(f"/ratings/cases/{case.number}/").content.decode()
    assert "您的评价" in page and "待整改" in page
    # Other people get 404 (staff who can see the case too: it is the applicant's page).
    assert client_for(wf.users["zy_clerk"]).get(f"/ratings/cases/{case.number}/").status_code == 404
    assert client_for(wf.users["other_citizen"]).get(f"/ratings/cases/{case.number}/").status_code == 404


def test_sms_link_page(wf, deliver):
    case = deliver()
    token = actions.sms_link_token(case)
    c = client_for()
    assert c.get(f"/ratings/sms/{token}/").status_code == 200
    assert c.post(f"/ratings/sms/{token}/", {"level": "5"}).status_code == 200
    assert Rating.objects.get(case=case).channel == "sms_link"
    assert c.get("/ratings/sms/forged/").status_code == 404


def test_pad_page_refuses_staff_and_serves_citizen(wf, make_ticket):
    ticket = make_ticket()
    _pad, raw = actions.open_pad(ticket=ticket, actor=wf.users["zy_clerk"])
    clerk = client_for(wf.users["zy_clerk"])
    assert clerk.get(f"/ratings/pad/{raw}/").status_code == 403
    assert clerk.post(f"/ratings/pad/{raw}/", {"level": "5"}).status_code == 403
    assert not Rating.objects.exists()
    screen = client_for()
    page = screen.get(f"/ratings/pad/{raw}/")
    assert page.status_code == 200 and "服务态度" in page.content.decode() and ticket.number in page.content.decode()
    assert screen.post(f"/ratings/pad/{raw}/", {"level": "5", "ind_attitude": "5"}).status_code == 200
    assert Rating.objects.get(ticket=ticket).channel == "window_pad"
    assert "已评价" in screen.get(f"/ratings/pad/{raw}/").content.decode()
    assert screen.post(f"/ratings/pad/{raw}/", {"level": "1"}).status_code == 409
    assert screen.get("/ratings/pad/unknown/").status_code == 404


def test_dashboard_scoped_and_drill_down(rated):
    wf = rated
    prov = client_for(wf.users["sup_province"])
    page = prov.get("/supervision/ratings/")
    text = page.content.decode()
    assert page.status_code == 200
    assert 'id="kpi-count">3<' in text and "贵阳市" in text and "遵义市" in text and "<svg" in text
    assert "cdn" not in without_random_tokens(text).lower()
    # Drill down: city → county → hall → window.
    text = prov.get("/supervision/ratings/", {"region": "520300"}).content.decode()
    assert "红花岗区" in text and 'id="kpi-count">1<' in text
    text = prov.get("/supervision/ratings/", {"region": "520302"}).content.decode()
    assert "遵义市红花岗区政务服务中心" in text
    text = prov.get("/supervision/ratings/", {"hall": "H-ZY"}).content.decode()
    assert "1号窗口" in text and "差评及整改情况" in text
    window = wf.windows["zy_tongban"].pk
    text = prov.get("/supervision/ratings/", {"window": window}).content.decode()
    assert 'id="kpi-count">1<' in text
    listing = prov.get("/supervision/ratings/list/", {"window": window}).content.decode()
    rating = Rating.objects.get(level=1)
    assert f"/supervision/ratings/{rating.pk}/" in listing
    detail = prov.get(f"/supervision/ratings/{rating.pk}/").content.decode()
    assert rating.case.number in detail and "等太久" in detail
    # Zunyi sees Zunyi only; Guiyang is 404; citizens 403.
    zunyi = client_for(wf.users["sup_zunyi"])
    assert 'id="kpi-count">1<' in zunyi.get("/supervision/ratings/").content.decode()
    assert zunyi.get("/supervision/ratings/", {"region": "520100"}).status_code == 404
    assert zunyi.get("/supervision/ratings/", {"hall": "H-GY"}).status_code == 404
    other = Rating.objects.get(level=4)
    assert zunyi.get(f"/supervision/ratings/{other.pk}/").status_code == 404
    assert client_for(wf.users["citizen"]).get("/supervision/ratings/").status_code == 403
    assert client_for().get("/supervision/ratings/").status_code == 302  # to the login page


def test_export_csv_and_xlsx_scoped(rated):
    from openpyxl import load_workbook

    wf = rated
    zunyi = client_for(wf.users["sup_zunyi"])
    resp = zunyi.get("/supervision/ratings/export.csv")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    text = b"".join(resp.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "评价编号" and len(rows) == 2 and rows[1][4] == "1"
    assert "13800138000" not in text and "张三" not in text
    resp = client_for(wf.users["sup_province"]).get("/supervision/ratings/export.xlsx")
    ws = load_workbook(io.BytesIO(resp.content)).active
    assert ws.max_row == 4
    assert zunyi.get("/supervision/ratings/export.pdf").status_code == 404


def test_rectification_pages_flow(rated):
    wf = rated
    rect = Rating.objects.get(level=1).rectification
    sup = client_for(wf.users["hall_sup_zy"])
    listing = sup.get("/supervision/rectifications/").content.decode()
    assert f"/supervision/rectifications/{rect.pk}/" in listing
    base = f"/supervision/rectifications/{rect.pk}/"
    assert "答复评价人" in sup.get(base).content.decode()
    sup.post(base + "reply/", {"reply": ""})
    rect.refresh_from_db()
    assert rect.state == "open"
    sup.post(base + "reply/", {"reply": "已加派窗口人员"})
    sup.post(base + "record_callback/", {"result": "satisfied", "note": "电话回访满意"})
    sup.post(base + "close/")
    rect.refresh_from_db()
    assert rect.state == "closed" and rect.callback_result == "satisfied"
    assert "已办结" in sup.get(base).content.decode()
    assert client_for(wf.users["sup_guiyang"]).get(base).status_code == 404


def test_appeal_through_pages(rated):
    wf = rated
    rating = Rating.objects.get(level=1)
    hall_sup = client_for(wf.users["hall_sup_zy"])
    hall_sup.post(f"/supervision/ratings/{rating.pk}/appeal/", {"reason": "恶意差评"})
    appeal = rating.appeals.get()
    # The hall supervisor cannot decide; the city supervisor can.
    hall_sup.post(f"/supervision/appeals/{appeal.pk}/uphold/", {"note": "x"})
    appeal.refresh_from_db()
    assert appeal.state == "pending"
    client_for(wf.users["sup_zunyi"]).post(f"/supervision/appeals/{appeal.pk}/uphold/", {"note": "属实"})
    appeal.refresh_from_db()
    rating.refresh_from_db()
    assert appeal.state == "upheld" and rating.counted is False


def test_public_page_is_anonymous_and_aggregated(rated):
    page = client_for().get("/ratings/public/")
    text = page.content.decode()
    assert page.status_code == 200 and "政务服务评价公开" in text
    assert "贵阳市" in text and "遵义市" in text and 'id="public-count">3<' in text
    # No personal data, and halls with fewer than 5 ratings are not singled out.
    assert "张三" not in text and "13800138000" not in text and "遵义市红花岗区政务服务中心" not in text
    assert client_for().get("/ratings/public/", {"period": "month"}).status_code == 200
