"""Reads of video sessions, for the pages and the API."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from remote import actions
from remote.models import VerificationRecord, VideoSession
from workflows import selectors as case_selectors
from workflows.models import Case


def session_for_member(
    session_id: str, user: User | None, guest_sessions: list[str] | None = None
) -> VideoSession | None:
    """The session if the caller is one of its two sides, else None (→ 404)."""
    session = (
        VideoSession.objects.select_related("case__item", "case__receiving_hall", "case__authority")
        .filter(pk=session_id)
        .first()
    )
    if session is None or actions.side_for(session, user, guest_sessions) is None:
        return None
    return session


def session_for_viewer(session_id: str, user: User | None) -> VideoSession | None:
    """The session if the caller may see its case (members, supervisors in scope ...), else None."""
    session = VideoSession.objects.select_related("case").filter(pk=session_id).first()
    if session is None or case_selectors.case_for(user, session.case.number) is None:
        return None
    return session


def sessions_of(case: Case) -> QuerySet[VideoSession]:
    return VideoSession.objects.filter(case=case).select_related("started_by").order_by("-started_at")


def records_of(case: Case) -> QuerySet[VerificationRecord]:
    return VerificationRecord.objects.filter(case=case).select_related("recorded_by", "session").order_by("recorded_at")
