"""City sites: ten sites from one template set, three skins as CSS variables, visitor preferences,
own host names, admin-edited banner / notices / featured items, colours validated for contrast."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from citizen_portal.models import CitySite, SiteNotice, Skin, validate_accent

pytestmark = pytest.mark.django_db

TEN = ("520100", "520200", "520300", "520400", "520500", "520600", "522300", "522600", "522700", "guian")


@pytest.fixture
def sites(demo_halls: Any) -> list[CitySite]:
    from demo.portal import load_portal

    load_portal()
    return list(CitySite.objects.order_by("position"))


def test_ten_sites_one_template_each_with_own_colours(client: Any, sites: list[CitySite]) -> None:
    assert [s.key for s in sites] == list(TEN)
    accents = set()
    for site in sites:
        resp = client.get(f"/sites/{site.key}/")
        assert resp.status_code == 200, site.key
        html = resp.content.decode()
        # The same template renders every city: no copy per city or skin.
        assert "citizen_portal/city.html" in [t.name for t in resp.templates]
        assert not any(site.key in (t.name or "") for t in resp.templates)
        assert site.name in html and f"--site-accent: {site.accent};" in html
        assert f'data-skin="{site.default_skin}"' in html
        assert "周末延时服务公告" in html  # a notice
        assert site.featured_items.exists() and site.featured_items.first().name in html
        accents.add(site.accent)
    assert len(accents) >= 9  # each city its own look
    assert sites[-1].hall is not None and "贵安新区" in sites[-1].hall.name


def test_visitor_switches_skin_and_elderly_mode(client: Any, sites: list[CitySite]) -> None:
    resp = client.post("/prefs/", {"skin": "contrast", "next": "/sites/520300/"})
    assert resp.status_code == 302 and resp["Location"] == "/sites/520300/"
    assert 'data-skin="contrast"' in client.get("/sites/520300/").content.decode()
    # The visitor's choice wins over a site whose administrator chose festive.
    assert 'data-skin="contrast"' in client.get("/sites/522600/").content.decode()
    client.post("/prefs/", {"skin": "", "next": "/"})
    assert 'data-skin="festive"' in client.get("/sites/522600/").content.decode()
    client.post("/prefs/", {"elderly": "1", "next": "/"})
    html = client.get("/sites/520100/").content.decode()
    assert 'data-elderly="on"' in html and "tel:" in html


def test_bad_preferences_are_refused_and_redirects_stay_on_site(client: Any, sites: list[CitySite]) -> None:
    resp = client.post("/prefs/", {"skin": "neon", "next": "/"})
    assert resp.status_code == 400 and "tb_skin" not in resp.cookies
    assert client.post("/prefs/", {"elderly": "yes"}).status_code == 400
    resp = client.post("/prefs/", {"skin": "festive", "next": "https://evil.example/"})
    assert resp.status_code == 302 and resp["Location"] == "/"
    assert client.get("/prefs/").status_code == 405


def test_admin_set_default_skin_and_own_host(client: Any, sites: list[CitySite], settings: Any) -> None:
    site = CitySite.objects.get(key="520300")
    site.default_skin = Skin.FESTIVE
    site.host = "zunyi.gzzwfw.example"
    site.banner_title = "遵义市政务服务网（测试横幅）"
    site.save()
    SiteNotice.objects.create(site=site, title="停电检修通知", body="本周六大厅暂停服务。")
    settings.ALLOWED_HOSTS = ["testserver", "zunyi.gzzwfw.example"]
    html = client.get("/", HTTP_HOST="zunyi.gzzwfw.example").content.decode()
    assert "遵义市政务服务网（测试横幅）" in html and 'data-skin="festive"' in html and "停电检修通知" in html
    # Other hosts still get the province home page.
    assert "市（州）站点" in client.get("/").content.decode()


def test_site_colours_must_carry_white_text() -> None:
    validate_accent("#1d5fa8")
    with pytest.raises(ValidationError, match=r"4\.5:1"):
        validate_accent("#f5d76e")
    with pytest.raises(ValidationError):
        validate_accent("red; background:url(x)")


def test_admin_edits_a_site(admin_client: Any, sites: list[CitySite]) -> None:
    site = CitySite.objects.get(key="520100")
    resp = admin_client.get(f"/admin/citizen_portal/citysite/{site.pk}/change/")
    assert resp.status_code == 200 and "横幅标题" in resp.content.decode()
    assert admin_client.get("/admin/citizen_portal/policydocument/").status_code == 200
