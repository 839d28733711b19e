"""Helpers shared by tests/licences and tests/ledger (both conftests import the fixtures)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def signing_keys(tmp_path, settings) -> Iterator[Any]:
    """Every test gets its own key directory with one fresh key, and its own media root."""
    from licences.keys import get_keyring, reset_keyring, write_key_file

    settings.RESULT_SIGNING_KEYS_DIR = str(tmp_path / "keys")
    settings.RESULT_SIGNING_KEY = ""
    settings.RESULT_SIGNING_ACTIVE_KID = ""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    reset_keyring()
    write_key_file(tmp_path / "keys")
    yield get_keyring()
    reset_keyring()


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run workflow actions so that their on-commit hooks (result_issued → render, delivered →
    library) run as they do in production."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def grant_reuse(case, clerk, capture):
    """The real consent flow (issue 11): ``clerk`` asks, the code goes by SMS to the applicant's
    verified phone (locmem outbox), the applicant reads it out, the clerk confirms. Returns the grant."""
    from licences import consent
    from tests.fixtures.accounts import last_code

    with capture(execute=True):
        grant = consent.request_grant(case=case, actor=clerk)
    return consent.confirm_with_code(case=case, actor=clerk, grant_id=grant.pk, code=last_code(grant.applicant.phone))


def client_for(user: Any) -> Any:
    from rest_framework.test import APIClient

    c = APIClient()
    c.force_authenticate(user)
    return c


@pytest.fixture
def delivered(wf, drive, on_commit):
    """A first case received in Zunyi, decided in Guiyang, handed over in Zunyi: in the library."""
    from licences.models import ELicence
    from workflows import actions as wf_actions

    case = wf.receive()
    wf.upload_required(case)
    case = on_commit(drive, case, "approved")
    case = on_commit(wf_actions.print_result, case=case, actor=wf.users["zy_printer"])
    case = on_commit(wf_actions.hand_over, case=case, actor=wf.users["zy_printer"])
    return case, ELicence.objects.get(result__case=case)
