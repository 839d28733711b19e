"""Industry zones: twenty of them, each with items, query services and policy services."""

from __future__ import annotations

from typing import Any

import pytest

from citizen_portal import actions
from citizen_portal.models import PolicyDocument, PolicyStatus
from services.models import IndustryZone
from tests.cache import clear_own_cache

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal(demo_halls: Any) -> Any:
    from demo.portal import load_portal

    load_portal()
    return demo_halls


def test_twenty_zones_each_with_items_queries_and_policies(client: Any, portal: Any) -> None:
    zones = list(IndustryZone.objects.order_by("code"))
    assert len(zones) == 20
    names = {z.name for z in zones}
    for real in ("开办企业", "工程建设", "交通运输", "医疗卫生", "教育", "文化旅游", "农业农村"):
        assert real in names
    for z in zones:
        html = client.get(f"/zones/{z.code}/").content.decode()
        assert z.items.filter(is_active=True).first().name in html, z.code
        assert "办件进度查询" in html and "办理结果核验" in html and "大厅排队情况" in html and "政策服务" in html


def test_policy_search_publish_retire(client: Any, portal: Any) -> None:
    html = client.get("/zones/business/").content.decode()
    assert "优化营商环境条例" in html and "国务院令第722号" in html
    assert "优化营商环境条例" in client.get("/zones/business/", {"pq": "营商"}).content.decode()
    assert "优化营商环境条例" not in client.get("/zones/business/", {"pq": "公积金"}).content.decode()
    doc = PolicyDocument.objects.get(title="优化营商环境条例")
    page = client.get(f"/policies/{doc.pk}/").content.decode()
    assert "国务院" in page and "2019年10月22日" in page and "政务服务" in page
    assert doc.items.first().name in page
    assert actions.retire_policies(ids=[doc.pk]) == 1
    assert client.get(f"/policies/{doc.pk}/").status_code == 404
    assert "优化营商环境条例" not in client.get("/zones/business/").content.decode()
    assert actions.publish_policies(ids=[doc.pk]) == 1
    assert client.get(f"/policies/{doc.pk}/").status_code == 200


def test_publishing_an_empty_policy_is_refused_and_nothing_changes(portal: Any) -> None:
    import datetime as dt

    from django.core.exceptions import ValidationError

    ok = PolicyDocument.objects.create(title="甲", issuing_body="省政府", published_on=dt.date(2024, 1, 2), body="正文")
    empty = PolicyDocument.objects.create(title="乙", issuing_body="省政府", published_on=dt.date(2024, 1, 2), body=" ")
    with pytest.raises(ValidationError, match="乙"):
        actions.publish_policies(ids=[ok.pk, empty.pk])
    assert set(PolicyDocument.objects.filter(pk__in=[ok.pk, empty.pk]).values_list("status", flat=True)) == {
        PolicyStatus.DRAFT
    }


def test_admin_publishes_and_retires(admin_client: Any, portal: Any) -> None:
    import datetime as dt

    doc = PolicyDocument.objects.create(
        title="测试政策", issuing_body="贵州省人民政府", published_on=dt.date(2024, 5, 6), body="正文"
    )
    admin_client.post("/admin/citizen_portal/policydocument/", {"action": "publish", "_selected_action": [doc.pk]})
    doc.refresh_from_db()
    assert doc.status == PolicyStatus.PUBLISHED
    admin_client.post("/admin/citizen_portal/policydocument/", {"action": "retire", "_selected_action": [doc.pk]})
    doc.refresh_from_db()
    assert doc.status == PolicyStatus.RETIRED and doc.retired_at is not None


def test_case_query_by_number_and_id_shows_live_state(client: Any, wf: Any, drive: Any) -> None:
    clear_own_cache()
    case = wf.receive()
    resp = client.post("/query/case/", {"number": case.number, "id_number": wf.applicant_id})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert case.number in html and case.item.name in html and "已收件" in html
    assert wf.applicant_id not in html  # the ID is only compared
    status = client.get(f"/query/case/{case.number}/status.json").json()
    assert status["state"] == case.state
    case = drive(case, "accepted")
    assert client.get(f"/query/case/{case.number}/status.json").json()["state"] == "accepted"


def test_case_query_refuses_wrong_id_drafts_and_guessing(client: Any, wf: Any) -> None:
    clear_own_cache()
    case = wf.receive()
    wrong = client.post("/query/case/", {"number": case.number, "id_number": "110101199003076578"})
    assert wrong.status_code == 404 and case.item.name not in wrong.content.decode()
    # Without a successful lookup in this session, the poll endpoint does not answer.
    assert client.get(f"/query/case/{case.number}/status.json").status_code == 404
    draft = wf.online(item="proxy")
    assert client.post("/query/case/", {"number": draft.number, "id_number": wf.applicant_id}).status_code == 404
    assert client.post("/query/case/", {"number": "", "id_number": ""}).status_code == 400
    for _ in range(10):
        client.post("/query/case/", {"number": "NOPE", "id_number": "X"})
    blocked = client.post("/query/case/", {"number": case.number, "id_number": wf.applicant_id})
    assert blocked.status_code == 429
    clear_own_cache()


def test_verify_and_queue_queries(client: Any, portal: Any) -> None:
    resp = client.get("/query/verify/", {"result": "R-2024-0001"})
    assert resp.status_code == 302 and resp["Location"] == "/verify/R-2024-0001/"
    assert client.get("/query/verify/", {"result": "<script>"}).status_code == 400
    assert client.get("/query/verify/").status_code == 200
    html = client.get("/query/queue/", {"region": "520300"}).content.decode()
    assert "正在等候" in html and "遵义" in html
    assert client.get("/query/queue/", {"region": "999999"}).status_code == 400


def test_item_guide_who_where_materials_samples_fees_limits_basis(client: Any, portal: Any) -> None:
    from services.models import Item

    item = Item.objects.get(name="居民身份证换领")
    html = client.get(f"/items/{item.code}/").content.decode()
    for text in ("申请对象", "有效期满", "办理地点", "申请材料", "户口簿首页", "收费", "法定时限", "设定依据"):
        assert text in html, text
    assert item.legal_basis.split("》")[0] in html
    # An item without a written guide still says who and where, from the catalog.
    other = Item.objects.filter(is_active=True, proxy=True).exclude(pk=item.pk).exclude(guide__isnull=False).first()
    html = client.get(f"/items/{other.code}/").content.decode()
    assert "符合设定依据所规定条件的申请人" in html and other.department_kind.name in html
    assert "跨域通办" in html
    assert client.get("/help/").status_code == 200 and "帮办代办" in client.get("/help/").content.decode()
    assert "个人信息保护法" in client.get("/help/privacy/").content.decode()


def test_assisted_application_recorded_and_shown(client: Any, wf: Any) -> None:
    """帮办代办: the window records a family member applying for the applicant; the case page and
    the public query say so; bad records are refused and nothing is written."""
    from django.core.exceptions import PermissionDenied, ValidationError

    from citizen_portal.models import AssistedApplication, AssistKind
    from tests.fixtures.workflows import id_number

    clear_own_cache()
    case = wf.receive()
    son = id_number("52010319900101123")
    with pytest.raises(PermissionDenied):
        actions.record_assistance(
            case=case, actor=wf.users["citizen"], kind="family", agent_name="张小三", agent_id=son
        )
    with pytest.raises(ValidationError):
        actions.record_assistance(case=case, actor=wf.users["zy_clerk"], kind="family", agent_name="", agent_id="123")
    with pytest.raises(ValidationError):
        actions.record_assistance(
            case=case, actor=wf.users["zy_clerk"], kind="other", agent_name="李律师", agent_id=son
        )
    assert not AssistedApplication.objects.exists()
    record = actions.record_assistance(
        case=case,
        actor=wf.users["zy_clerk"],
        kind=AssistKind.FAMILY,
        agent_name="张小三",
        agent_id=son,
        relation="子女",
    )
    assert record.agent_id_masked.startswith("520103") and son not in record.agent_id_masked
    with pytest.raises(ValidationError):
        actions.record_assistance(case=case, actor=wf.users["zy_clerk"], kind=AssistKind.CLERK)
    html = client.post("/query/case/", {"number": case.number, "id_number": wf.applicant_id}).content.decode()
    assert "亲属代办" in html and "张小三" in html and "子女" in html and son not in html
    other = wf.receive()
    clerk = actions.record_assistance(case=other, actor=wf.users["zy_clerk"], kind=AssistKind.CLERK)
    assert clerk.agent_name and clerk.agent_id_hash == ""
