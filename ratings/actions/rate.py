"""Rating a finished case (一事一评, online or from the SMS link) and a served visit at the
window pad (一次一评); a bad rating opens its rectification in the same transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import STAFF_ROLES, Role, User
from core.onetime import new_token, token_digest
from halls.models import QueueTicket, TicketStatus
from halls.scope import scope_for
from ratings import tally
from ratings.actions._common import RATEABLE_STATES, RatingConflict, RatingInput, _clean, _codes, _now
from ratings.actions.rectification import open_rectification
from ratings.models import BAD_LEVELS, Channel, PadToken, Rating, RatingKind
from workdays import calendar
from workflows.models import Case, CaseEvent, CaseState

SMS_LINK_SALT = "ratings.sms-link"
SMS_LINK_MAX_AGE = 60 * 60 * 24 * 30
PAD_TOKEN_TTL = dt.timedelta(minutes=30)


# --- rating a case (一事一评) -------------------------------------------------------------------


def _case_staff(case: Case) -> int | None:
    """The staff member who served: the receiving clerk, else whoever decided the case."""
    if case.created_by_id is not None and case.created_by is not None and case.created_by.role in STAFF_ROLES:
        return case.created_by_id
    return (
        CaseEvent.objects.filter(case=case, transition__in=["approve", "deny", "reject", "accept"], actor__isnull=False)
        .order_by("-seq")
        .values_list("actor_id", flat=True)
        .first()
    )


def _case_attribution(case: Case) -> dict[str, Any]:
    hall = case.receiving_hall or case.delivery_hall
    window_id = case.receiving_window_id if hall is not None and hall.pk == case.receiving_hall_id else None
    adcode = str(hall.region_id) if hall is not None else str(case.jurisdiction_id)
    return {
        "hall": hall,
        "window_id": window_id,
        "staff_id": _case_staff(case),
        "item_id": case.item_id,
        **_codes(adcode),
    }


def _check_rateable(case: Case) -> None:
    if case.parent_id is not None:
        raise RatingConflict(_("联办子件不单独评价，请对主件评价。"), state=case.state)
    if case.state not in RATEABLE_STATES:
        raise RatingConflict(
            _("办件办结（已送达、不予批准或不予受理）后才能评价，当前状态为“%(state)s”。")
            % {"state": CaseState(case.state).label},
            state=case.state,
        )
    if Rating.objects.filter(case=case).exists():
        raise RatingConflict(_("该办件已评价，每件只能评价一次。"), state=case.state)


def rate_case(
    *,
    case: Case,
    actor: User,
    data: RatingInput,
    channel: str = Channel.ONLINE,
    at: dt.datetime | None = None,
) -> Rating:
    """The applicant rates their finished case (一事一评).

    Refused with PermissionDenied for anyone but the case's applicant, RatingConflict (409) for a
    case not yet finished, a sub-case or a second rating. Side effects: the rating, the tallies,
    and for a bad rating (1 or 2) a rectification assigned to the rated hall's supervisor.
    """
    if actor is None or not actor.is_authenticated or case.applicant_id != actor.pk:
        raise PermissionDenied(_("只有申请人本人可以评价该办件。"))
    return _rate_case(case=case, rater=actor, data=data, channel=channel, at=at)


def _rate_case(*, case: Case, rater: User | None, data: RatingInput, channel: str, at: dt.datetime | None) -> Rating:
    level, indicators, comment = _clean(RatingKind.CASE, data)
    now = _now(at)
    with transaction.atomic():
        # Lock the case row: its state cannot change under us and two tabs cannot both rate.
        locked = Case.objects.select_for_update(of=("self",)).select_related(
            "receiving_hall", "delivery_hall", "created_by"
        )
        case = locked.get(pk=case.pk)
        _check_rateable(case)
        attribution = _case_attribution(case)
        try:
            with transaction.atomic():
                rating = Rating.objects.create(
                    kind=RatingKind.CASE,
                    channel=channel,
                    case=case,
                    rater=rater,
                    contact_phone=case.applicant_phone,
                    level=level,
                    indicators=indicators,
                    comment=comment,
                    rated_at=now,
                    rated_on=calendar.local_date(now),
                    **attribution,
                )
        except IntegrityError:
            raise RatingConflict(_("该办件已评价，每件只能评价一次。"), state=case.state) from None
        _after_rating(rating, now)
    return rating


def sms_link_token(case: Case) -> str:
    """The signed token of the case's SMS reply link (/ratings/sms/<token>/), valid 30 days."""
    return signing.dumps({"c": case.pk}, salt=SMS_LINK_SALT, compress=True)


def case_for_sms_token(token: str) -> Case:
    """The case a link token names; ValidationError for a forged or expired link."""
    try:
        payload = signing.loads(token, salt=SMS_LINK_SALT, max_age=SMS_LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise ValidationError({"token": [_("评价链接已过期。")]}) from None
    except signing.BadSignature:
        raise ValidationError({"token": [_("评价链接无效。")]}) from None
    case = Case.objects.filter(pk=payload.get("c")).first() if isinstance(payload, dict) else None
    if case is None:
        raise ValidationError({"token": [_("评价链接无效。")]})
    return case


def rate_case_by_link(*, token: str, data: RatingInput, session_user: User | None = None) -> Rating:
    """Rate a case from the SMS reply link: the signed token stands for the applicant.

    A logged-in session of someone other than the applicant is refused (PermissionDenied): staff
    cannot rate on a citizen's behalf. Side effects as ``rate_case``; channel sms_link.
    """
    case = case_for_sms_token(token)
    if session_user is not None and session_user.is_authenticated and session_user.pk != case.applicant_id:
        raise PermissionDenied(_("请由申请人本人通过短信链接评价。"))
    return _rate_case(case=case, rater=case.applicant, data=data, channel=Channel.SMS_LINK, at=None)


# --- rating a visit at the window pad (一次一评) ---------------------------------------------------


def _may_open_pad(user: User, ticket: QueueTicket) -> bool:
    scope = scope_for(user)
    if scope.everything:
        return True
    return user.role in (Role.WINDOW_CLERK, Role.HALL_SUPERVISOR) and ticket.hall_id in scope.hall_ids


def open_pad(*, ticket: QueueTicket, actor: User, at: dt.datetime | None = None) -> tuple[PadToken, str]:
    """Hand a served visit to the window's citizen-facing rating pad: a one-time token.

    Only staff posted at the ticket's hall (else PermissionDenied); only for a ticket whose service
    is finished (status done) and not yet rated (else RatingConflict). Calling it again replaces
    the previous unused token. Returns the row and the raw token (only its hash is stored).
    """
    if not _may_open_pad(actor, ticket):
        raise PermissionDenied(_("只有本大厅工作人员可以发起窗口评价。"))
    now = _now(at)
    raw = new_token()
    with transaction.atomic():
        ticket = QueueTicket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.status != TicketStatus.DONE:
            raise RatingConflict(
                _("排队号“%(number)s”尚未办结（当前：%(state)s），办结后才能评价。")
                % {"number": ticket.number, "state": TicketStatus(ticket.status).label},
                state=ticket.status,
            )
        if Rating.objects.filter(ticket=ticket).exists():
            raise RatingConflict(_("该次服务已评价。"), state=ticket.status)
        pad, _created = PadToken.objects.update_or_create(
            ticket=ticket,
            defaults={
                "token_hash": token_digest(raw),
                "created_by": actor,
                "created_at": now,
                "expires_at": now + PAD_TOKEN_TTL,
                "used_at": None,
            },
        )
    return pad, raw


def pad_for_token(token: str) -> PadToken | None:
    if not token:
        return None
    return (
        PadToken.objects.select_related("ticket", "ticket__hall", "ticket__window")
        .filter(token_hash=token_digest(token))
        .first()
    )


def _refuse_staff_session(session_user: User | None) -> None:
    if (
        session_user is not None
        and session_user.is_authenticated
        and (session_user.role in STAFF_ROLES or session_user.is_staff or session_user.is_superuser)
    ):
        raise PermissionDenied(_("工作人员账号不能代替群众评价，请由办事群众在评价器上操作。"))


def rate_visit(
    *, token: str, data: RatingInput, session_user: User | None = None, at: dt.datetime | None = None
) -> Rating:
    """The citizen rates a served visit on the window pad (一次一评, channel window_pad).

    The one-time token is the only key: unknown → ValidationError; used, expired, or a ticket not
    served → RatingConflict; a staff session submitting it → PermissionDenied (the clerk cannot
    rate for the citizen). Side effects: the rating, tallies, a rectification when bad; the token
    is spent.
    """
    _refuse_staff_session(session_user)
    level, indicators, comment = _clean(RatingKind.VISIT, data)
    now = _now(at)
    with transaction.atomic():
        pad = pad_for_token(token)
        if pad is None:
            raise ValidationError({"token": [_("评价器令牌无效，请工作人员重新发起评价。")]})
        pad = PadToken.objects.select_for_update().get(pk=pad.pk)
        ticket = QueueTicket.objects.select_related("hall", "window").get(pk=pad.ticket_id)
        if pad.used_at is not None or Rating.objects.filter(ticket=ticket).exists():
            raise RatingConflict(_("该次服务已评价。"), state=ticket.status)
        if pad.expires_at < now:
            raise RatingConflict(_("评价器令牌已过期，请工作人员重新发起评价。"), state=ticket.status)
        if ticket.status != TicketStatus.DONE:
            raise RatingConflict(_("该次服务尚未办结，不能评价。"), state=ticket.status)
        appointment_item = ticket.appointment.item_id if hasattr(ticket, "appointment") and ticket.appointment else None
        try:
            with transaction.atomic():
                rating = Rating.objects.create(
                    kind=RatingKind.VISIT,
                    channel=Channel.WINDOW_PAD,
                    ticket=ticket,
                    rater=ticket.applicant,
                    contact_phone=ticket.phone,
                    level=level,
                    indicators=indicators,
                    comment=comment,
                    hall=ticket.hall,
                    window_id=ticket.window_id,
                    staff_id=ticket.called_by_id,
                    item_id=appointment_item,
                    rated_at=now,
                    rated_on=calendar.local_date(now),
                    **_codes(str(ticket.hall.region_id)),
                )
        except IntegrityError:
            raise RatingConflict(_("该次服务已评价。"), state=ticket.status) from None
        pad.used_at = now
        pad.save(update_fields=["used_at"])
        _after_rating(rating, now)
    return rating


# --- after a rating: tallies and rectification ----------------------------------------------------


def _after_rating(rating: Rating, now: dt.datetime) -> None:
    tally.apply(rating, +1)
    if rating.level in BAD_LEVELS:
        open_rectification(rating=rating, at=now)
