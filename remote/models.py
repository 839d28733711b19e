"""Remote video verification (远程核验): a video session between the receiving window and the
deciding authority (or the authority and an online applicant at home), and what it established.

No media passes through or is stored by the server: the browsers exchange WebRTC offers, answers
and ICE candidates over the session's Channels group, then talk peer to peer.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SessionKind(models.TextChoices):
    STAFF = "staff", _("收件窗口与审批部门")
    APPLICANT = "applicant", _("审批部门与申请人")


class SessionState(models.TextChoices):
    WAITING = "waiting", _("等待对方加入")
    CONNECTED = "connected", _("已接通")
    ENDED = "ended", _("已结束")
    EXPIRED = "expired", _("无人加入，已过期")


class Side(models.TextChoices):
    WINDOW = "window", _("收件窗口")
    AUTHORITY = "authority", _("审批部门")
    APPLICANT = "applicant", _("申请人")


OPEN_STATES = (SessionState.WAITING, SessionState.CONNECTED)


class VideoSession(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(
        "workflows.Case", verbose_name=_("办件"), on_delete=models.CASCADE, related_name="video_sessions"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=SessionKind.choices)
    state = models.CharField(_("状态"), max_length=16, choices=SessionState.choices, default=SessionState.WAITING)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_side = models.CharField(_("发起方"), max_length=16, choices=Side.choices)
    started_at = models.DateTimeField(_("发起时间"))
    join_deadline = models.DateTimeField(_("加入期限"))
    connected_at = models.DateTimeField(_("接通时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("结束人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # SHA-256 of the applicant's one-time join link token (the token itself is only in the SMS).
    guest_token_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    guest_token_used_at = models.DateTimeField(_("链接使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("远程视频核验会话")
        verbose_name_plural = _("远程视频核验会话")
        ordering = ["-started_at"]
        constraints = [
            # One open session per case and kind: the other side joins it instead of starting a second.
            models.UniqueConstraint(
                fields=["case", "kind"],
                condition=models.Q(state__in=["waiting", "connected"]),
                name="remote_one_open_session_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.state}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class Peer(models.Model):
    """A browser currently in the session's signalling group (one per side). The second to join
    makes the WebRTC offer, which this row lets the server decide under the session's lock."""

    session = models.ForeignKey(VideoSession, on_delete=models.CASCADE, related_name="peers")
    side = models.CharField(max_length=16, choices=Side.choices)
    channel_name = models.CharField(max_length=255, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    joined_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "side"], name="remote_one_peer_per_side")]

    def __str__(self) -> str:
        return f"{self.session_id} {self.side}"


class Outcome(models.TextChoices):
    IDENTITY_CONFIRMED = "identity_confirmed", _("身份已确认")
    ORIGINALS_CONFIRMED = "originals_confirmed", _("原件已确认")
    REFUSED = "refused", _("核验未通过")


class VerificationRecord(models.Model):
    """What a connected session established, recorded by one of its staff sides; written together
    with the case event (and its ledger entry) that puts it on the case's timeline."""

    session = models.ForeignKey(VideoSession, verbose_name=_("会话"), on_delete=models.PROTECT, related_name="records")
    case = models.ForeignKey(
        "workflows.Case", verbose_name=_("办件"), on_delete=models.CASCADE, related_name="video_verifications"
    )
    outcome = models.CharField(_("核验结论"), max_length=32, choices=Outcome.choices)
    reason = models.TextField(_("理由"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_side = models.CharField(_("记录方"), max_length=16, choices=Side.choices)
    recorded_at = models.DateTimeField(_("记录时间"))
    event = models.OneToOneField(
        "workflows.CaseEvent", verbose_name=_("办件记录"), on_delete=models.PROTECT, related_name="video_verification"
    )

    class Meta:
        verbose_name = _("远程核验记录")
        verbose_name_plural = _("远程核验记录")
        ordering = ["recorded_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["session", "outcome"], name="remote_one_outcome_per_session")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.outcome}"
