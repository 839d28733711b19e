"""Finding 10: production settings — CSP (no inline scripts), HSTS + SSL redirect, no automatically
generated signing key, and `check --deploy` silent."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client, override_settings

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3y-" + "Zq9xW2vB7nM4pL8rT1yU6iO0aS5dF3gH" * 2
PROD_ENV = {
    "DJANGO_SECRET_KEY": STRONG_KEY,
    "PUBLIC_BASE_URL": "https://zwfw.guizhou.example",
    "DJANGO_ALLOWED_HOSTS": "zwfw.guizhou.example,testserver",
}
# Settings the test database and services own; everything else comes from config.settings.production.
NOT_OVERRIDDEN = {"DATABASES", "CACHES", "CHANNEL_LAYERS", "PASSWORD_HASHERS", "STORAGES", "MEDIA_ROOT"}


def production_settings(monkeypatch, keys_dir: Path) -> dict[str, object]:
    for k, v in {**PROD_ENV, "RESULT_SIGNING_KEYS_DIR": str(keys_dir)}.items():
        monkeypatch.setenv(k, v)
    import config.settings.base as base

    importlib.reload(base)  # production reads SECRET_KEY & co. through base, evaluated at import
    import config.settings.production as prod

    prod = importlib.reload(prod)
    values = {k: getattr(prod, k) for k in dir(prod) if k.isupper() and k not in NOT_OVERRIDDEN}
    return {k: v for k, v in values.items() if getattr(django_settings, k, object()) != v}


@pytest.fixture
def real_key(tmp_path):
    from licences.keys import write_key_file

    keys = tmp_path / "keys"
    write_key_file(keys)
    return keys


@pytest.fixture
def prod(monkeypatch, real_key):
    from licences.keys import reset_keyring

    overrides = production_settings(monkeypatch, real_key)
    with override_settings(**overrides):
        reset_keyring()
        yield overrides
    reset_keyring()


@pytest.mark.django_db
def test_check_deploy_is_silent_under_production_settings(prod):
    # The operator has entered next year's State Council schedule (workflows.W001 otherwise).
    from django.utils import timezone

    from workdays.calendar import invalidate_overrides
    from workdays.models import HolidayOverride

    for year in (timezone.localdate().year, timezone.localdate().year + 1):
        HolidayOverride.objects.get_or_create(date=dt.date(year, 1, 1), defaults={"is_workday": False})
    invalidate_overrides()
    call_command("check", deploy=True, fail_level="WARNING")


@pytest.mark.django_db
def test_production_responses_carry_csp_and_hsts_and_redirect_to_https(prod):
    c = Client(HTTP_HOST="zwfw.guizhou.example")
    plain = c.get("/accounts/login/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    page = c.get("/accounts/login/", secure=True)
    assert page.status_code == 200
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    csp = page["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "object-src 'none'" in csp
    api = c.get("/api/v1/items/", secure=True)
    assert "Content-Security-Policy" in api and "Strict-Transport-Security" in api


def test_templates_have_no_inline_scripts_or_handlers():
    offenders = []
    for path in ROOT.glob("**/templates/**/*.html"):
        if ".venv" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"<script(?P<attrs>[^>]*)>", text):
            attrs = m.group("attrs")
            if "src=" not in attrs and "application/json" not in attrs:
                offenders.append(f"{path}: inline <script>")
        if re.search(r"\son[a-z]+\s*=", text):
            offenders.append(f"{path}: inline event handler")
        if "javascript:" in text:
            offenders.append(f"{path}: javascript: URL")
    assert not offenders, offenders


def _start(env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **PROD_ENV, "DJANGO_SETTINGS_MODULE": "config.settings.production", **env_extra}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_with_an_automatically_generated_signing_key(tmp_path, settings):
    from licences.keys import _autogenerate, reset_keyring

    keys = tmp_path / "keys"
    _autogenerate(keys)  # what a development run leaves in var/keys
    assert list(keys.glob("*.dev"))
    run = _start({"RESULT_SIGNING_KEYS_DIR": str(keys)})
    assert run.returncode != 0 and "development signing key" in run.stderr
    run = _start({"RESULT_SIGNING_KEYS_DIR": str(tmp_path / "none"), "RESULT_SIGNING_AUTOGENERATE": "1"})
    assert run.returncode != 0 and "RESULT_SIGNING_AUTOGENERATE" in run.stderr
    run = _start({"RESULT_SIGNING_KEYS_DIR": str(tmp_path / "none"), "DJANGO_SECRET_KEY": "short"})
    assert run.returncode != 0 and "too weak" in run.stderr

    # And the check that used to fall silent once the development key existed now speaks.
    from licences.checks import check_signing_key

    settings.RESULT_SIGNING_KEYS_DIR = str(keys)
    settings.RESULT_SIGNING_AUTOGENERATE = False
    reset_keyring()
    assert [m.id for m in check_signing_key()] == ["licences.E002"]
    settings.RESULT_SIGNING_AUTOGENERATE = True
    assert [m.id for m in check_signing_key()] == ["licences.W003"]
    reset_keyring()
