"""The applicant's invitation to a video verification: a one-time link by SMS (outbox, same
transaction as the session)."""

from __future__ import annotations

from django.urls import reverse

from core.links import public_url
from notifications.actions import enqueue_sms
from notifications.templates_sms import SmsTemplate, all_templates, register
from workflows.models import Case

INVITE = "remote_video_invite"


def register_templates() -> None:
    if INVITE not in {t.name for t in all_templates()}:
        register(
            SmsTemplate(
                INVITE,
                "远程视频核验邀请（申请人，一次性链接）",
                "您的办件{case_number}（{item_name}）需进行视频核验，请在{minutes}分钟内用手机或电脑浏览器打开"
                "{link} 加入（链接仅可使用一次，请勿转发）。",
                sensitive=frozenset({"link"}),
            )
        )


def guest_link(token: str) -> str:
    return public_url(reverse("remote:guest", args=[token]))


def invite_applicant(case: Case, *, link: str, minutes: int) -> None:
    """Raises ValueError for an unusable number (the caller's transaction then rolls back: no
    session the applicant could never be told about)."""
    enqueue_sms(
        to=case.applicant_phone,
        template=INVITE,
        context={"case_number": case.number, "item_name": case.item.name, "link": link, "minutes": minutes},
    )
