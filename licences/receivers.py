"""Handlers of the workflow's events (workflows/extensions.py): thin hand-offs to Celery tasks.

They never let a failure of ours break the workflow's transition: the workflow has committed by
the time they run, and the ``render_missing`` beat task picks up a result that was not rendered.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def on_result_issued(*, result: Any) -> None:
    """``result_issued``, after the issuing transaction committed: render and sign."""
    from licences import tasks

    try:
        tasks.render_result_document.delay(str(result.pk))
    except Exception:
        logger.exception("could not render result %s now; the render_missing sweep will retry", result.pk)


def on_case_delivered(*, case_id: int) -> None:
    """``case_delivered``, after the transaction that delivered the case committed: file its
    results into the holder's e-licence library."""
    from licences import tasks

    try:
        tasks.register_delivered_case.delay(case_id)
    except Exception:
        logger.exception("could not file the results of case %s into the e-licence library", case_id)


def on_setting_changed(setting: str, **kwargs: Any) -> None:
    if setting.startswith("RESULT_SIGNING") or setting == "LEDGER_KEYRING":
        from licences.keys import reset_keyring

        reset_keyring()
