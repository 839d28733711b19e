"""Every write of the ratings app: rating a case or a visit, rectifications, appeals, sweeps.

Each action runs in ONE transaction, checks who acts, keeps the tallies (ratings.tally) in step
with the ratings, writes the rectification's record, and queues SMS through the notifications
outbox in the same transaction (sent after commit). Invalid input raises django ValidationError
(400); a refused state raises ``RatingConflict`` (409 with the current state and what is allowed);
a caller who may see the object but not act raises PermissionDenied (403).

``at`` parameters exist for the demo loader and tests that need a history; requests never pass it.

One module per concern, all imported from here (``from ratings import actions``):
``_common`` (the refusal, the input, shared helpers), ``rate`` (一事一评 and 一次一评),
``rectification`` (owners, 整改 transitions, escalation), ``appeals``, ``invitations``.
"""

from ratings.actions._common import (
    MAX_COMMENT,
    RATEABLE_STATES,
    RatingConflict,
    RatingInput,
    province_escalation_days,
    rectification_days,
)
from ratings.actions.appeals import _may_appeal, decide_appeal, file_appeal, may_decide_appeal
from ratings.actions.invitations import INVITATION_AFTER, INVITATION_LOOKBACK, send_invitations
from ratings.actions.rate import (
    PAD_TOKEN_TTL,
    SMS_LINK_MAX_AGE,
    SMS_LINK_SALT,
    case_for_sms_token,
    open_pad,
    pad_for_token,
    rate_case,
    rate_case_by_link,
    rate_visit,
    sms_link_token,
)
from ratings.actions.rectification import (
    RectificationOwner,
    allowed_transitions,
    competent_department,
    department_approver_for,
    department_post_name,
    escalate_overdue,
    hall_post_name,
    may_handle_rectification,
    open_rectification,
    rectification_deadline,
    rectification_owner,
    transition_rectification,
)

__all__ = [
    "INVITATION_AFTER",
    "INVITATION_LOOKBACK",
    "MAX_COMMENT",
    "PAD_TOKEN_TTL",
    "RATEABLE_STATES",
    "SMS_LINK_MAX_AGE",
    "SMS_LINK_SALT",
    "RatingConflict",
    "RatingInput",
    "RectificationOwner",
    "_may_appeal",
    "allowed_transitions",
    "case_for_sms_token",
    "competent_department",
    "decide_appeal",
    "department_approver_for",
    "department_post_name",
    "escalate_overdue",
    "file_appeal",
    "hall_post_name",
    "may_decide_appeal",
    "may_handle_rectification",
    "open_pad",
    "open_rectification",
    "pad_for_token",
    "province_escalation_days",
    "rate_case",
    "rate_case_by_link",
    "rate_visit",
    "rectification_days",
    "rectification_deadline",
    "rectification_owner",
    "send_invitations",
    "sms_link_token",
    "transition_rectification",
]
