"""Appeals of malicious ratings (恶意评价): staff file, a supervisor above the hall decides."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import Role, User
from halls.scope import scope_for
from ratings import tally
from ratings.actions._common import RatingConflict, _now, _text
from ratings.models import Appeal, AppealState, Rating, Rectification, RectificationEvent


def _may_appeal(user: User, rating: Rating) -> bool:
    if user.pk is not None and rating.staff_id == user.pk:
        return True
    scope = scope_for(user)
    if scope.everything:
        return True
    return (
        user.role in (Role.WINDOW_CLERK, Role.HALL_SUPERVISOR)
        and rating.hall_id is not None
        and rating.hall_id in scope.hall_ids
    )


def file_appeal(*, rating: Rating, actor: User, reason: str, at: dt.datetime | None = None) -> Appeal:
    """Staff appeal a rating as malicious (恶意评价). PermissionDenied unless the rated staff member
    or staff posted at the rated hall; RatingConflict when it is already out of the statistics or
    an appeal is pending. Side effects: the appeal row (the rating stays counted until upheld)."""
    if not _may_appeal(actor, rating):
        raise PermissionDenied(_("只有被评价的工作人员或该大厅工作人员可以申诉。"))
    text = _text(reason, "reason", _("请填写申诉理由。"))
    now = _now(at)
    with transaction.atomic():
        rating = Rating.objects.select_for_update().get(pk=rating.pk)
        if not rating.counted:
            raise RatingConflict(_("该评价已因申诉成立不计入统计。"), state="excluded")
        try:
            with transaction.atomic():
                return Appeal.objects.create(rating=rating, reason=text, filed_by=actor, filed_at=now)
        except IntegrityError:
            raise RatingConflict(_("该评价已有待审核的申诉。"), state=AppealState.PENDING) from None


def may_decide_appeal(user: User | None, rating: Rating) -> bool:
    # Supervisors above the hall decide: a hall's own people never judge appeals about that hall.
    scope = scope_for(user)
    if scope.everything:
        return True
    return scope.role in (Role.SUPERVISOR, Role.ADMIN) and scope.covers_region(rating.county_code)


def decide_appeal(
    *, appeal: Appeal, actor: User, uphold: bool, note: str = "", at: dt.datetime | None = None
) -> Appeal:
    """Uphold or dismiss a pending appeal. Upheld: the rating leaves the statistics (tallies −1,
    its rectification no longer counts) but stays on record. PermissionDenied for anyone but a
    supervisor in scope; RatingConflict when already decided."""
    if not may_decide_appeal(actor, appeal.rating):
        raise PermissionDenied(_("只有上级监督人员可以审核申诉。"))
    now = _now(at)
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update(of=("self",)).select_related("rating").get(pk=appeal.pk)
        if appeal.state != AppealState.PENDING:
            raise RatingConflict(_("该申诉已审核。"), state=appeal.state)
        appeal.state = AppealState.UPHELD if uphold else AppealState.DISMISSED
        appeal.decided_by = actor
        appeal.decided_at = now
        appeal.decision_note = (note or "").strip()[:2000]
        appeal.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        if uphold:
            rating = Rating.objects.select_for_update().get(pk=appeal.rating_id)
            if rating.counted:
                Rating.objects.filter(pk=rating.pk).update(counted=False)
                tally.apply(rating, -1)
                rect = Rectification.objects.filter(rating=rating).first()
                if rect is not None:
                    Rectification.objects.filter(pk=rect.pk).update(counted=False)
                    RectificationEvent.objects.create(
                        rectification=rect,
                        kind="appeal_upheld",
                        from_state=rect.state,
                        to_state=rect.state,
                        actor=actor,
                        at=now,
                        payload={"appeal": appeal.pk},
                    )
    return appeal
