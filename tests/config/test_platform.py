"""Platform: health, OpenAPI schema, production settings guard, language switch, admin in Chinese."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.fixtures.pages import without_random_tokens

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_healthz_ok(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"db": "ok", "cache": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_healthz_names_what_is_down(client, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    from django.core.cache import caches

    caches._settings = caches.settings = settings.CACHES  # type: ignore[attr-defined]
    with contextlib.suppress(AttributeError):
        del caches._connections.default  # type: ignore[attr-defined]
    resp = client.get("/healthz")
    assert resp.status_code == 503
    assert resp.json()["cache"] == "down" and resp.json()["db"] == "ok"


@pytest.mark.django_db
def test_openapi_schema_describes_the_public_interface(client):
    resp = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert resp.status_code == 200
    schema = resp.json()
    paths = schema["paths"]
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/auth/otp/",
        "/api/v1/auth/otp/verify/",
        "/api/v1/regions/",
        "/api/v1/items/",
        "/api/v1/items/{code}/",
        "/api/v1/departments/",
        "/api/v1/halls/",
    ):
        assert path in paths, path


@pytest.mark.django_db
def test_api_docs_served_locally(client):
    resp = client.get("/api/docs/")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "cdn" not in without_random_tokens(html).lower() and "//unpkg" not in html and "jsdelivr" not in html
    assert "/static/drf_spectacular_sidecar/" in html


def _settings_import(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    # A key directory of its own: production refuses to start over a development key that a local
    # `make run` may have generated in var/keys.
    clean.setdefault("RESULT_SIGNING_KEYS_DIR", tempfile.mkdtemp(prefix="tongban-keys-"))
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_production_refuses_without_secret_key():
    result = _settings_import({})
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_debug():
    result = _settings_import({"DJANGO_SECRET_KEY": "x" * 50, "DJANGO_DEBUG": "true"})
    assert result.returncode != 0 and "DJANGO_DEBUG" in result.stderr


def test_production_starts_when_safe():
    result = _settings_import({"DJANGO_SECRET_KEY": "x" * 50})
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_chinese_by_default_english_by_switch(client):
    # Even a browser that prefers English gets Chinese until the user switches.
    resp = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert 'lang="zh-hans"' in resp.content.decode()
    resp = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert resp.status_code == 302
    resp = client.get("/accounts/login/")
    html = resp.content.decode()
    assert 'lang="en"' in html
    assert "Staff login" in html


@pytest.mark.django_db
def test_admin_in_chinese(admin_client):
    resp = admin_client.get("/admin/")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "站点管理" in html or "管理" in html
    assert "服务场所" in html and "政务服务事项" in html


@pytest.mark.django_db
def test_inline_beat_runs_every_periodic_task_once():
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("run_beat_inline", "--once", stdout=out)
    assert "dispatch-outbox" in out.getvalue()


def test_favicon_is_served_locally(client):
    resp = client.get("/favicon.ico")
    assert resp.status_code == 301 and resp["Location"].endswith("/static/favicon.svg")
