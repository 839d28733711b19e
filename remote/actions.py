"""Every write of remote video verification: start, join/leave (signalling presence), connected,
outcome, end, expiry, the applicant's one-time link.

Who may take part (``side_for``): in a staff session only the case's two staff posts — a clerk
posted at the receiving hall (the window) and an approver of the competent authority; in an
applicant session the authority and the applicant (logged in, or holding the one-time SMS link).
Nobody else, whatever their role or scope: a supervisor may read the record, not sit in the call.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core import errors as domain
from core.onetime import new_token, token_digest
from remote import conf, notify
from remote.models import OPEN_STATES, Outcome, Peer, SessionKind, SessionState, Side, VerificationRecord, VideoSession
from workflows import actions as workflow_actions
from workflows.models import Case, CaseState, Material, MaterialSource
from workflows.rules import Actor

logger = logging.getLogger(__name__)
S = CaseState

# A staff session starts from a case at the window's verify step (received); an applicant session
# from an online case the authority is examining.
STAFF_STATES = (S.RECEIVED,)
APPLICANT_STATES = (S.SUBMITTED, S.ACCEPTED, S.UNDER_REVIEW)
EVENT_NAME = "video_verification"


class SessionConflict(domain.Conflict):
    """The session is not in a state that allows this (409)."""


class NotAMember(domain.Forbidden):
    """Not one of the session's two sides (the WebSocket refuses the handshake; pages answer 404)."""


class ApplicantUnreachable(domain.Invalid, ValueError):
    """The join link cannot be texted to the applicant (an unusable phone number): 400 on ``kind``.
    Still a ValueError, as the SMS outbox's refusal it wraps (``reason``) is."""

    def __init__(self, reason: ValueError) -> None:
        detail = _("无法向申请人发送加入链接：%(e)s") % {"e": reason}
        super().__init__(detail, errors={"kind": [detail]})
        self.reason = reason


def group_name(session_id: Any) -> str:
    return f"remote.{str(session_id).replace('-', '')}"


def _broadcast(session_id: Any, message: dict[str, Any]) -> None:
    """Tell both pages (after commit: never announce what was rolled back)."""
    layer = get_channel_layer()
    if layer is None:
        return
    group = group_name(session_id)
    transaction.on_commit(lambda: async_to_sync(layer.group_send)(group, message))


def side_for(session: VideoSession, user: User | None, guest_sessions: list[str] | None = None) -> str | None:
    """The side ``user`` (or the browser holding the applicant's redeemed link) takes in
    ``session``, or None when they are not one of its two sides."""
    case = session.case
    actor = Actor(user if user is not None and user.is_authenticated else None)
    if actor.user is not None and actor.approver_for(case):
        return Side.AUTHORITY
    if session.kind == SessionKind.STAFF:
        if actor.user is not None and actor.clerk_at(case.receiving_hall_id):
            return Side.WINDOW
        return None
    if str(session.pk) in (guest_sessions or []) or (actor.user is not None and actor.applicant_of(case)):
        return Side.APPLICANT
    return None


def _starting_side(case: Case, user: User, kind: str) -> str:
    actor = Actor(user)
    if kind == SessionKind.STAFF:
        if case.receiving_hall_id is None:
            raise ValidationError({"kind": [_("网上申请的办件没有收件窗口，请选择与申请人视频核验。")]})
        if case.state not in STAFF_STATES:
            raise SessionConflict(_("只有“已收件”的办件可以发起窗口与审批部门的视频核验。"))
        if actor.clerk_at(case.receiving_hall_id):
            return Side.WINDOW
        if actor.approver_for(case):
            return Side.AUTHORITY
        raise NotAMember(_("只有收件窗口和审批部门可以发起视频核验。"))
    if kind == SessionKind.APPLICANT:
        if case.receiving_hall_id is not None:
            raise ValidationError({"kind": [_("窗口收件的办件由收件窗口核验申请人。")]})
        if case.state not in APPLICANT_STATES:
            raise SessionConflict(_("当前状态不能发起与申请人的视频核验。"))
        if not actor.approver_for(case):
            raise NotAMember(_("只有审批部门可以发起与申请人的视频核验。"))
        if not case.applicant_phone:
            raise ValidationError({"kind": [_("申请人未留手机号码，无法发送加入链接。")]})
        return Side.AUTHORITY
    raise ValidationError({"kind": [_("未知的核验类型。")]})


def expire_if_due(session: VideoSession, now: datetime | None = None) -> bool:
    """A session nobody joined before its deadline becomes ``expired`` (nothing else is written:
    no outcome can exist, outcomes need a connected call). True when it is (now) expired."""
    now = now or timezone.now()
    if session.state == SessionState.EXPIRED:
        return True
    if session.state == SessionState.WAITING and session.connected_at is None and now > session.join_deadline:
        updated = VideoSession.objects.filter(
            pk=session.pk, state=SessionState.WAITING, connected_at__isnull=True
        ).update(state=SessionState.EXPIRED, ended_at=now)
        session.state = SessionState.EXPIRED
        session.ended_at = now
        if updated:
            Peer.objects.filter(session=session).delete()
            _broadcast(session.pk, {"type": "session.closed", "state": SessionState.EXPIRED})
        return True
    return False


def open_session_for(case: Case, kind: str) -> VideoSession | None:
    session = VideoSession.objects.filter(case=case, kind=kind, state__in=OPEN_STATES).first()
    if session is not None:
        with transaction.atomic():
            if expire_if_due(session):
                return None
    return session


@dataclass
class Started:
    session: VideoSession
    created: bool
    # The applicant's one-time link (only when this call created an applicant session).
    guest_link: str = ""


def start_session(*, case: Case, actor: User, kind: str = SessionKind.STAFF) -> Started:
    """Start a video session on ``case`` (or return the open one: the other side then joins it).
    An applicant session texts the applicant a one-time join link.
    Side effects: the session row; for an applicant session, the SMS in the outbox."""
    side = _starting_side(case, actor, kind)
    existing = open_session_for(case, kind)
    if existing is not None:
        return Started(existing, created=False)
    now = timezone.now()
    token = new_token() if kind == SessionKind.APPLICANT else ""
    try:
        with transaction.atomic():
            session = VideoSession.objects.create(
                case=case,
                kind=kind,
                started_by=actor,
                started_side=side,
                started_at=now,
                join_deadline=now + timedelta(minutes=conf.join_minutes()),
                guest_token_hash=token_digest(token) if token else "",
            )
            link = ""
            if token:
                link = notify.guest_link(token)
                try:
                    notify.invite_applicant(case, link=link, minutes=conf.join_minutes())
                except ValueError as exc:
                    raise ApplicantUnreachable(exc) from exc
    except IntegrityError:
        # Both sides pressed "start" at once: the other one's session is the one to join.
        found = open_session_for(case, kind)
        if found is None:
            raise
        return Started(found, created=False)
    return Started(session, created=True, guest_link=link)


def redeem_guest_token(token: str) -> VideoSession | None:
    """The applicant opened the SMS link: valid once, only while the session is open."""
    digest = token_digest(token or "")
    with transaction.atomic():
        session = (
            VideoSession.objects.select_for_update()
            .filter(guest_token_hash=digest, kind=SessionKind.APPLICANT, guest_token_used_at__isnull=True)
            .first()
        )
        if session is None or not session.is_open or expire_if_due(session):
            return None
        session.guest_token_used_at = timezone.now()
        session.save(update_fields=["guest_token_used_at"])
        return session


@dataclass
class Joined:
    session_id: str
    side: str
    state: str
    deadline: datetime
    # True when the other side is already there: this browser makes the WebRTC offer.
    offer: bool
    # Channels of an earlier browser of the same side (a reload, a second tab): told to close.
    replaced: list[str] = field(default_factory=list)
    # Channels of the other side already there when this browser joined: their own "peer joined"
    # announcement may still be in flight (channels-redis delivers group messages through pub/sub,
    # so it can reach a subscription made after it was sent) and is not news to this browser.
    present: list[str] = field(default_factory=list)


def join(*, session_id: str, user: User | None, guest_sessions: list[str], channel_name: str) -> Joined:
    """A browser opens the session's WebSocket. Raises NotAMember (not one of the two sides) or
    SessionConflict (unknown, ended or expired session). Side effects: its Peer row."""
    try:
        key = uuid.UUID(str(session_id))
    except ValueError:
        raise NotAMember("unknown session") from None
    stale = VideoSession.objects.filter(pk=key).first()
    if stale is not None and stale.is_open:
        # Expire first, in its own transaction: the refusal below must not roll the expiry back.
        expire_if_due(stale)
    with transaction.atomic():
        session = VideoSession.objects.select_for_update().select_related("case").filter(pk=key).first()
        if session is None:
            raise NotAMember("unknown session")
        side = side_for(session, user, guest_sessions)
        if side is None:
            raise NotAMember("not a side of this session")
        if not session.is_open:
            raise SessionConflict(session.state)
        replaced = list(Peer.objects.filter(session=session, side=side).values_list("channel_name", flat=True))
        Peer.objects.filter(session=session, side=side).delete()
        present = list(Peer.objects.filter(session=session).exclude(side=side).values_list("channel_name", flat=True))
        Peer.objects.create(
            session=session,
            side=side,
            channel_name=channel_name,
            user=user if user is not None and user.is_authenticated else None,
            joined_at=timezone.now(),
        )
        return Joined(
            str(session.pk),
            side,
            session.state,
            session.join_deadline,
            offer=bool(present),
            replaced=replaced,
            present=present,
        )


def leave(*, channel_name: str) -> None:
    """The browser's WebSocket closed (hang-up, closed tab, lost network). Side effects: its Peer row."""
    Peer.objects.filter(channel_name=channel_name).delete()


def mark_connected(*, session_id: str, channel_name: str) -> bool:
    """A side reports its RTCPeerConnection ``connected``: the session is connected (once)."""
    if not Peer.objects.filter(session__pk=session_id, channel_name=channel_name).exists():
        return False
    now = timezone.now()
    return bool(
        VideoSession.objects.filter(pk=session_id, state__in=OPEN_STATES, connected_at__isnull=True).update(
            state=SessionState.CONNECTED, connected_at=now
        )
    )


_FILE_SOURCES = (MaterialSource.UPLOAD, MaterialSource.WINDOW_SCAN, MaterialSource.SHARED)


def record_outcome(*, session: VideoSession, actor: User, outcome: str, reason: str = "") -> VerificationRecord:
    """Record what the call established, by one of its STAFF sides, in one transaction: the
    verification record and the case event (with its ledger entry). Only after the call connected
    (nothing is recorded for a call that never happened); each outcome once per session.
    "originals confirmed" raises the case's unsighted scans to "sighted" (seen by video).
    "refused" needs a reason. Side effects: the record, the event, its ledger entry; both pages told."""
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": [_("未知的核验结论。")]})
    text = (reason or "").strip()
    if outcome == Outcome.REFUSED and not text:
        raise ValidationError({"reason": [_("核验未通过须填写理由。")]})
    if len(text) > 2000:
        raise ValidationError({"reason": [_("理由不能超过 2000 字。")]})
    with transaction.atomic():
        locked = VideoSession.objects.select_for_update().select_related("case").get(pk=session.pk)
        side = side_for(locked, actor)
        if side not in (Side.WINDOW, Side.AUTHORITY):
            raise NotAMember(_("只有参与视频核验的工作人员可以记录核验结论。"))
        if locked.connected_at is None:
            raise SessionConflict(_("视频尚未接通，不能记录核验结论。"))
        if locked.records.filter(outcome=outcome).exists():
            raise SessionConflict(_("本次视频核验已记录过该结论。"))
        case = locked.case
        raised: list[str] = []
        now = timezone.now()
        if outcome == Outcome.ORIGINALS_CONFIRMED:
            owner = case.parent_id or case.pk
            current = Material.objects.filter(
                case_id=owner, superseded_at__isnull=True, source__in=_FILE_SOURCES, grade="uploaded"
            )
            raised = sorted(current.values_list("requirement__code", flat=True))
            current.update(grade="sighted", original_sighted_by=actor, original_sighted_at=now)
        labels = dict(Outcome.choices)
        payload: dict[str, Any] = {
            "session": str(locked.pk),
            "kind": locked.kind,
            "outcome": outcome,
            "reason": text,
            "side": side,
            "connected_at": locked.connected_at.isoformat(),
            "summary": f"{labels[outcome]}" + (f"：{text}" if text else ""),
        }
        if raised:
            payload["originals_sighted"] = raised
        event = workflow_actions.record_case_fact(case=case, actor=actor, name=EVENT_NAME, payload=payload)
        record = VerificationRecord.objects.create(
            session=locked,
            case=case,
            outcome=outcome,
            reason=text,
            recorded_by=actor,
            recorded_side=side,
            recorded_at=now,
            event=event,
        )
        _broadcast(
            locked.pk,
            {
                "type": "session.outcome",
                "outcome": outcome,
                "label": str(labels[outcome]),
                "reason": text,
                "side": side,
            },
        )
    return record


def end_session(*, session: VideoSession, actor: User | None, guest_sessions: list[str] | None = None) -> VideoSession:
    """Either side hangs up for good: the session ends (a new one can be started).
    Side effects: state ended; both pages told to close."""
    with transaction.atomic():
        locked = VideoSession.objects.select_for_update().select_related("case").get(pk=session.pk)
        if side_for(locked, actor, guest_sessions) is None:
            raise NotAMember(_("您不是该视频核验的参与方。"))
        if not locked.is_open:
            raise SessionConflict(_("该视频核验已结束。"))
        locked.state = SessionState.ENDED
        locked.ended_at = timezone.now()
        locked.ended_by = actor if actor is not None and actor.is_authenticated else None
        locked.save(update_fields=["state", "ended_at", "ended_by"])
        Peer.objects.filter(session=locked).delete()
        _broadcast(locked.pk, {"type": "session.closed", "state": SessionState.ENDED})
    return locked


def call_path(session: VideoSession) -> str:
    return reverse("remote:call", args=[session.pk])
