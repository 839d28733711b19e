"""Signal receivers: thin hand-offs to Celery tasks (no business rules here).

They never let a failure of ours break the workflow's transition: the workflow has committed by
the time they run, and the ``render_missing`` beat task picks up anything that failed.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


def on_result_issued(sender: Any, result: Any, **kwargs: Any) -> None:
    """workflows sends ``result_issued`` after the issuing transaction committed: render and sign."""
    from licences import tasks

    try:
        tasks.render_result_document.delay(str(result.pk))
    except Exception:
        logger.exception("could not render result %s now; the render_missing sweep will retry", result.pk)


def _register(case_id: int) -> None:
    from licences import tasks

    try:
        tasks.register_delivered_case.delay(case_id)
    except Exception:
        logger.exception("could not file the results of case %s into the e-licence library", case_id)


def on_case_transition(sender: Any, instance: Any, name: str, source: str, target: str, **kwargs: Any) -> None:
    """django-fsm's post_transition: when a case reaches ``delivered``, file its results into the
    holder's e-licence library once the transition's transaction commits (never if it rolls back)."""
    if target != "delivered" or instance.pk is None:
        return
    case_id = instance.pk
    transaction.on_commit(lambda: _register(case_id), robust=True)


def on_setting_changed(setting: str, **kwargs: Any) -> None:
    if setting.startswith("RESULT_SIGNING") or setting == "LEDGER_KEYRING":
        from licences.keys import reset_keyring

        reset_keyring()
