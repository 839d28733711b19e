"""Every write to a case: one action per transition, plus creation and materials.

The package, bottom to top (a module imports only those below it):

- ``engine``: the common body of every transition action (``_transition``: rule, fsm step,
  conditional UPDATE, event + ledger entry, follow-up steps), the exceptions it raises;
- ``clocks``: the acceptance and decision clocks;
- ``intake``: creating cases (``receive`` at a window, ``create_online``), claiming window cases;
- ``joint``: a joint parent spawning its sub-cases;
- ``submission``: submit, verify, transfer, corrections, resubmission;
- ``delivery``: issuing, routing, printing, handing over, mailing; withdrawal;
- ``review``: the authority's steps and a joint parent following its sub-cases;
- ``sweeps``: deemed acceptance of overdue cases;
- ``materials``: uploads, e-licences, shared materials, pledges, opening a material; facts.

Which transitions exist, who may take them and what they take as input is the one table in
``workflows.registry``; ``TRANSITION_ACTIONS`` (the dispatch of the API and the pages) is derived
from it. Import from ``workflows.actions``, not from the modules: this is the public surface.
"""

from __future__ import annotations

from collections.abc import Callable

from workflows.actions.clocks import ACCEPTANCE_DAYS, CLOCK_FIELDS
from workflows.actions.delivery import (
    confirm_receipt,
    deliver_online,
    hand_over,
    issue,
    mail,
    print_result,
    queue_print,
    withdraw,
)
from workflows.actions.engine import SYSTEM_LABEL, Step, TransitionConflict, TransitionForbidden, _transition
from workflows.actions.intake import (
    ApplicantInput,
    claim_window_cases,
    create_online,
    current_materials,
    receive,
    window_record_verdict,
)
from workflows.actions.materials import (
    MATERIAL_STATES,
    OpenedMaterial,
    Upload,
    UploadTooLarge,
    _material_actor,
    add_material_e_license,
    add_material_file,
    add_material_pledge,
    add_material_shared,
    material_view_payload,
    max_upload_bytes,
    open_material,
    record_case_fact,
    sniff_type,
    watermark_lines,
)
from workflows.actions.review import accept, approve, deny, reject, resume, start_review, suspend
from workflows.actions.submission import (
    check_min_grades,
    correction_answers,
    open_notice,
    request_correction,
    resubmit,
    submit,
    transfer,
    verify,
)
from workflows.actions.sweeps import deem_accept_overdue
from workflows.models import Case
from workflows.registry import OFFERED, CorrectionItem


def _dispatch() -> dict[str, Callable[..., Case]]:
    """Each transition taken at the endpoints → the action its registry entry names (above)."""
    table: dict[str, Callable[..., Case]] = {}
    for name, entry in OFFERED.items():
        assert entry.action is not None  # OFFERED holds the entries with an action
        table[name] = globals()[entry.action]
    return table


# The table the API and the pages dispatch on (derived from workflows.registry).
TRANSITION_ACTIONS: dict[str, Callable[..., Case]] = _dispatch()

__all__ = [
    "ACCEPTANCE_DAYS",
    "CLOCK_FIELDS",
    "MATERIAL_STATES",
    "SYSTEM_LABEL",
    "TRANSITION_ACTIONS",
    "ApplicantInput",
    "CorrectionItem",
    "OpenedMaterial",
    "Step",
    "TransitionConflict",
    "TransitionForbidden",
    "Upload",
    "UploadTooLarge",
    "_material_actor",
    "_transition",
    "accept",
    "add_material_e_license",
    "add_material_file",
    "add_material_pledge",
    "add_material_shared",
    "approve",
    "check_min_grades",
    "claim_window_cases",
    "confirm_receipt",
    "correction_answers",
    "create_online",
    "current_materials",
    "deem_accept_overdue",
    "deliver_online",
    "deny",
    "hand_over",
    "issue",
    "mail",
    "material_view_payload",
    "max_upload_bytes",
    "open_material",
    "open_notice",
    "print_result",
    "queue_print",
    "receive",
    "record_case_fact",
    "reject",
    "request_correction",
    "resubmit",
    "resume",
    "sniff_type",
    "start_review",
    "submit",
    "suspend",
    "transfer",
    "verify",
    "watermark_lines",
    "window_record_verdict",
    "withdraw",
]
