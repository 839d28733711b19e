"""The apply form on the real Guizhou data: 88 counties grouped by nine cities, delivery halls of
the demo registry, and a case routed to the real department."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.fixtures.workflows import PDF, id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def guizhou_citizen(demo_halls: Any, make_user: Any) -> Any:
    from accounts.protect import lookup_hash, protect

    number = id_number("52030219880808123")  # household registration: 遵义市红花岗区
    return make_user(
        real_name="赵六",
        phone="13812345678",
        id_number_protected=protect(number),
        id_number_hash=lookup_hash(number),
    )


def test_county_and_city_items_offer_the_right_jurisdictions(client: Any, guizhou_citizen: Any) -> None:
    from services.models import Item

    client.force_login(guizhou_citizen)
    county_item = Item.objects.filter(online=True, handling_level="county", is_active=True).order_by("code").first()
    html = client.get(f"/apply/{county_item.code}/").content.decode()
    groups = re.findall(r'<optgroup label="([^"]+)">', html.split('id="hall_region"')[0])
    assert len(groups) == 9 and "遵义市" in groups and "黔东南苗族侗族自治州" in groups
    assert len(re.findall(r'data-level="county"', html)) == 88
    assert 'data-level="city"' not in html
    # default 属地 from the ID number, default delivery hall in that county
    assert re.search(r'value="520302" data-level="county" selected', html)
    hall_select = html.split('id="delivery_hall"')[1].split("</select>")[0]
    assert "selected" in hall_select and "红花岗区" in hall_select

    city_item = Item.objects.filter(online=True, handling_level="city", is_active=True).order_by("code").first()
    html = client.get(f"/apply/{city_item.code}/").content.decode()
    assert len(re.findall(r'data-level="city"', html)) == 9  # the city itself may be named


def test_apply_and_submit_a_real_item(client: Any, guizhou_citizen: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from halls.selectors import halls_with_issuing_window
    from services.models import Item
    from workflows.models import Case

    client.force_login(guizhou_citizen)
    item = Item.objects.get(code="520000-QR-01004-000")  # 户籍证明开具
    hall = halls_with_issuing_window("520302").order_by("code").first()
    resp = client.post(
        f"/apply/{item.code}/",
        {"jurisdiction": "520302", "delivery_method": "pickup", "hall_region": "520302", "delivery_hall": hall.code},
    )
    assert resp.status_code == 302, resp.content.decode()
    case = Case.objects.get(applicant=guizhou_citizen)
    assert case.authority.region_id == "520302" and case.delivery_hall == hall
    for req in item.materials.filter(required=True):
        r = client.post(
            f"/my/cases/{case.number}/materials/",
            {"requirement": req.code, "file": SimpleUploadedFile("a.pdf", PDF)},
        )
        assert r.status_code == 302
    assert client.post(f"/my/cases/{case.number}/submit/").status_code == 302
    case.refresh_from_db()
    assert case.state == "submitted"
    data = client.get("/apply/halls.json", {"region": "520302"}).json()
    assert hall.code in [h["code"] for h in data["halls"]]
    # the county's comprehensive centre comes first, township stations after it
    types = [h["type"] for h in data["halls"]]
    assert types[0] == "综合政务服务大厅" and types == sorted(types, key=lambda t: t != "综合政务服务大厅")


def test_a_city_jurisdiction_defaults_to_the_city_centre(client: Any, guizhou_citizen: Any) -> None:
    from halls.models import Hall
    from services.models import Item

    client.force_login(guizhou_citizen)
    city_item = Item.objects.filter(online=True, handling_level="city", is_active=True).order_by("code").first()
    html = client.get(f"/apply/{city_item.code}/", {"jurisdiction": "520300"}).content.decode()
    selected = re.search(r'<select id="delivery_hall".*?<option value="([^"]+)"[^>]* selected', html, re.S)
    assert selected is not None
    hall = Hall.objects.get(code=selected.group(1))
    assert hall.level == "city" and hall.type == "comprehensive" and hall.region.parent_id == "520300"
