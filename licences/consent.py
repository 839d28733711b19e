"""Reuse only with the applicant present (材料复用当场授权).

A clerk may see, and attach, the applicant's materials from other cases (e-licences, shared
materials with their digests and where the originals were sighted) only after the applicant
consents in that moment, for that case and that clerk:

* the clerk requests a grant; a one-time code goes by SMS to the phone of the account that holds
  the case's ID number VERIFIED (accounts.realname) — never to the phone the clerk typed in;
* the applicant reads the code back to the clerk (channel ``sms_code``), or approves the request in
  their own session (channel ``applicant_session``);
* the grant lasts REUSE_GRANT_SECONDS; every material it lets the clerk attach records it
  (ReuseConsent.grant, and the consent's ledger entry names the channel).

There is no default: a clerk without a live grant gets 403 from ``/reusable/`` and from the
materials API's reuse branches.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from licences.models import GrantChannel, ReuseGrant
from workflows.models import Case

CODE_TTL_SECONDS = 300
MAX_ATTEMPTS = 5
MAX_REQUESTS_PER_HOUR = 5
TEMPLATE = "reuse_consent_code"


def needs_grant_message() -> str:
    return _("须经申请人当场授权（短信验证码或申请人本人确认）后，才能查看和调用其在其他办件中的材料。")


def register_templates() -> None:
    from notifications.templates_sms import SmsTemplate, all_templates, register

    if TEMPLATE not in {t.name for t in all_templates()}:
        register(
            SmsTemplate(
                TEMPLATE,
                "材料复用当场授权验证码",
                "验证码{code}，{minutes}分钟内有效。{hall}工作人员申请调用您在其他办件中提交的材料和电子证照，"
                "用于办件{case_number}（{item_name}）。如您本人在场并同意，请将验证码告知工作人员；如非本人办理，请勿告知。",
                defaults={"hall": "政务服务大厅"},
                sensitive=frozenset({"code"}),
            )
        )


def applicant_account(case: Case) -> User | None:
    """The account that holds the case's ID number verified: the only person who can consent."""
    if not case.applicant_id_hash:
        return None
    return (
        User.objects.filter(
            role=Role.CITIZEN, id_number_hash=case.applicant_id_hash, id_verified_at__isnull=False, is_active=True
        )
        .order_by("id_verified_at", "pk")
        .first()
    )


def identity_established(case: Case) -> bool:
    """May anything be reused into this case at all? The case's ID number must be held verified by
    an account, and an online case must be that account's own (a declared, unverified number on an
    online draft must not open the real holder's materials)."""
    holder = applicant_account(case)
    if holder is None:
        return False
    return case.receiving_hall_id is not None or case.applicant_id == holder.pk


def active_grant(case: Case, user: User) -> ReuseGrant | None:
    now = timezone.now()
    return (
        ReuseGrant.objects.filter(case=case, granted_to=user, consented_at__isnull=False, expires_at__gt=now)
        .order_by("-consented_at")
        .first()
    )


def _hash(grant_salt: str, code: str) -> str:
    mac = hmac.new(settings.SECRET_KEY.encode(), f"reuse:{grant_salt}:{code}".encode(), hashlib.sha256).hexdigest()
    return f"{grant_salt}${mac}"


def request_grant(*, case: Case, actor: User) -> ReuseGrant:
    """A staff member whose duty covers ``case`` asks the applicant for consent to reuse.

    Refused (400) when no account holds the case's ID number verified (nobody to ask: scan the
    papers instead) and after MAX_REQUESTS_PER_HOUR requests for the case.
    Side effects: a pending ReuseGrant (code hash only) and the SMS to the applicant's verified
    phone in the same transaction (sent after commit)."""
    from notifications.actions import enqueue_sms

    if not actor.is_staff_role:
        raise PermissionDenied(_("只有工作人员需要申请材料复用授权。"))
    holder = applicant_account(case) if identity_established(case) else None
    if holder is None:
        raise ValidationError(
            {"applicant": [_("申请人尚未完成实名核验，无法授权调用其他办件的材料；请现场扫描提交材料。")]}
        )
    now = timezone.now()
    recent = ReuseGrant.objects.filter(case=case, requested_at__gte=now - timedelta(hours=1)).count()
    if recent >= MAX_REQUESTS_PER_HOUR:
        raise ValidationError({"applicant": [_("授权请求过于频繁，请稍后再试。")]})
    code = f"{secrets.randbelow(10**6):06d}"
    hall = case.receiving_hall.name if case.receiving_hall else ""
    with transaction.atomic():
        grant = ReuseGrant.objects.create(
            case=case,
            granted_to=actor,
            applicant=holder,
            code_hash=_hash(secrets.token_hex(8), code),
            requested_at=now,
            code_expires_at=now + timedelta(seconds=CODE_TTL_SECONDS),
        )
        enqueue_sms(
            to=holder.phone,
            template=TEMPLATE,
            context={
                **({"hall": hall} if hall else {}),
                "case_number": case.number,
                "item_name": case.item.name,
                "code": code,
                "minutes": CODE_TTL_SECONDS // 60,
            },
            dedupe_key=f"reuse-grant:{grant.pk}",
        )
    return grant


def _consent(grant: ReuseGrant, channel: str) -> ReuseGrant:
    now = timezone.now()
    done = ReuseGrant.objects.filter(pk=grant.pk, consented_at__isnull=True).update(
        consented_at=now, channel=channel, expires_at=now + timedelta(seconds=settings.REUSE_GRANT_SECONDS)
    )
    if not done:
        raise ValidationError({"grant": [_("该授权已确认过。")]})
    grant.refresh_from_db()
    return grant


def confirm_with_code(*, case: Case, actor: User, grant_id: int, code: str) -> ReuseGrant:
    """The clerk types the code the applicant read out. A wrong code spends one of MAX_ATTEMPTS
    (taken with a conditional UPDATE before comparing, so parallel guesses cannot exceed it)."""
    grant = ReuseGrant.objects.filter(pk=grant_id, case=case, granted_to=actor).first()
    invalid = ValidationError({"code": [_("验证码错误或已过期，请申请人重新获取。")]})
    if grant is None or grant.consented_at is not None:
        raise ValidationError({"grant": [_("未找到待确认的授权请求。")]})
    code = (code or "").strip()
    if not re.fullmatch(r"\d{6}", code) or grant.code_expires_at <= timezone.now():
        raise invalid
    taken = ReuseGrant.objects.filter(pk=grant.pk, attempts__lt=MAX_ATTEMPTS, consented_at__isnull=True).update(
        attempts=F("attempts") + 1
    )
    salt = grant.code_hash.partition("$")[0]
    if not taken or not hmac.compare_digest(grant.code_hash, _hash(salt, code)):
        raise invalid
    return _consent(grant, GrantChannel.SMS_CODE)


def approve_in_session(*, grant_id: int, actor: User) -> ReuseGrant:
    """The applicant, signed in on their own device, approves a clerk's pending request."""
    grant = ReuseGrant.objects.select_related("case").filter(pk=grant_id, applicant=actor).first()
    if grant is None or grant.consented_at is not None or grant.code_expires_at <= timezone.now():
        raise ValidationError({"grant": [_("未找到待确认的授权请求。")]})
    if not actor.id_verified or actor.id_number_hash != grant.case.applicant_id_hash:
        raise ValidationError({"grant": [_("未找到待确认的授权请求。")]})
    return _consent(grant, GrantChannel.APPLICANT_SESSION)


def pending_for(user: User) -> list[ReuseGrant]:
    """Requests waiting for this applicant's answer (shown in their own session)."""
    return list(
        ReuseGrant.objects.filter(applicant=user, consented_at__isnull=True, code_expires_at__gt=timezone.now())
        .select_related("case", "case__item", "case__receiving_hall", "granted_to")
        .order_by("-requested_at")
    )
