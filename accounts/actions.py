"""Writes on accounts: citizens' SMS login and staff creation."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts import extensions, tokens
from accounts.identity import validate_applicant_identifier
from accounts.models import ClaimReason, IdentityClaim, OtpCode, Role, User, VerificationSource
from accounts.protect import lookup_hash, mask_id_number, protect
from core.phones import mainland_mobile, national


class RateLimited(Exception):
    """Too many codes requested for this phone or from this address."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _citizen_phone(phone: str) -> str:
    """The stored form (E.164, core.phones) of a citizen's phone; citizens log in with mainland
    mobiles only, so anything else (a foreign number included) is refused with the form's message."""
    try:
        return mainland_mobile(phone or "")
    except ValueError:
        raise ValidationError({"phone": [_("请输入有效的11位手机号码。")]}) from None


def _code_hash(phone: str, code: str, salt: str) -> str:
    # The MAC covers the 11 digits, as it did before phones were stored in E.164: a code requested
    # just before that migration still verifies after it.
    digits = national(phone)
    mac = hmac.new(settings.SECRET_KEY.encode(), f"{salt}:{digits}:{code}".encode(), hashlib.sha256).hexdigest()
    return f"{salt}${mac}"


def _matches(stored: str, phone: str, code: str) -> bool:
    salt, _sep, _mac = stored.partition("$")
    return hmac.compare_digest(stored, _code_hash(phone, code, salt))


def _window_hit(key: str, *, seconds: int = 3600) -> int:
    """Count one event in the current fixed window of `key` and return the count (atomic: cache
    add + incr are single operations on Redis and locmem, so parallel requests cannot both see 4)."""
    bucket = int(timezone.now().timestamp()) // seconds
    full = f"otp-limit:{key}:{bucket}"
    cache.add(full, 0, timeout=seconds * 2)
    try:
        return int(cache.incr(full))
    except ValueError:  # evicted between add and incr
        cache.add(full, 1, timeout=seconds * 2)
        return 1


def _window_count(key: str, *, seconds: int = 3600) -> int:
    bucket = int(timezone.now().timestamp()) // seconds
    return int(cache.get(f"otp-limit:{key}:{bucket}", 0))


def remember_device(device: str | None) -> None:
    """A device (signed cookie) that completed a login keeps getting codes when the breaker is open."""
    if device:
        cache.set(f"otp-known-device:{device}", 1, timeout=settings.OTP_KNOWN_DEVICE_DAYS * 86400)


def _known_device(device: str | None) -> bool:
    return bool(device) and bool(cache.get(f"otp-known-device:{device}"))


def request_otp(*, phone: str, ip: str | None, device: str | None = None) -> OtpCode:
    """Create a one-time login code for `phone` and queue its SMS.

    Side effects: an OtpCode row (hash only) and an outbox SMS in the same transaction; the SMS is
    sent after commit. Raises RateLimited when the phone, the device or the address asked too often,
    or when the province-wide circuit breaker is open.

    The limits are layered so that carrier-grade NAT (hundreds of citizens behind one address) keeps
    working: the per-address limit is only a high backstop; the tight ones are per phone (an SMS
    bomb on one number) and per device cookie; SMS bombing across many numbers is bounded by the
    global breaker (OTP_GLOBAL_PER_HOUR), which lets devices that logged in before through.
    """
    from notifications.actions import enqueue_sms

    phone = _citizen_phone(phone)
    now = timezone.now()
    hour_ago = now - timedelta(hours=1)
    with transaction.atomic():
        recent_phone = OtpCode.objects.filter(phone=phone, created_at__gte=hour_ago).count()
        if recent_phone >= settings.OTP_PER_PHONE_PER_HOUR:
            raise RateLimited(_("该手机号获取验证码过于频繁，请稍后再试。"), retry_after=3600)
        if device and _window_count(f"dev:{device}") >= settings.OTP_PER_DEVICE_PER_HOUR:
            raise RateLimited(_("请求过于频繁，请稍后再试。"), retry_after=3600)
        if ip:
            recent_ip = OtpCode.objects.filter(requested_ip=ip, created_at__gte=hour_ago).count()
            if recent_ip >= settings.OTP_PER_IP_PER_HOUR:
                raise RateLimited(_("请求过于频繁，请稍后再试。"), retry_after=3600)
        if not _known_device(device) and _window_hit("global") > settings.OTP_GLOBAL_PER_HOUR:
            raise RateLimited(_("短信验证码发送量已达上限，请稍后再试或到窗口办理。"), retry_after=600)
        if device:
            _window_hit(f"dev:{device}")
        code = f"{secrets.randbelow(10**6):06d}"
        otp = OtpCode.objects.create(
            phone=phone,
            code_hash=_code_hash(phone, code, secrets.token_hex(8)),
            requested_ip=ip,
            expires_at=now + timedelta(seconds=settings.OTP_TTL_SECONDS),
        )
        enqueue_sms(
            to=phone,
            template="otp_code",
            context={"code": code, "minutes": max(1, settings.OTP_TTL_SECONDS // 60)},
            dedupe_key=f"otp:{otp.pk}",
        )
    return otp


def _flag_claim(*, phone: str, number: str, name: str, reason: str) -> IdentityClaim:
    """Record a refused claim for a clerk (its own transaction: the refusal rolls nothing else back)."""
    digest = lookup_hash(number)
    with transaction.atomic():
        claim = (
            IdentityClaim.objects.select_for_update()
            .filter(phone=phone, id_number_hash=digest, reason=reason, resolved_at__isnull=True)
            .first()
        )
        if claim is not None:
            IdentityClaim.objects.filter(pk=claim.pk).update(attempts=F("attempts") + 1)
            return claim
        try:
            with transaction.atomic():
                return IdentityClaim.objects.create(
                    phone=phone,
                    id_number_hash=digest,
                    id_number_masked=mask_id_number(number),
                    name=name[:64],
                    reason=reason,
                )
        except IntegrityError:  # a concurrent attempt opened it first
            return IdentityClaim.objects.get(
                phone=phone, id_number_hash=digest, reason=reason, resolved_at__isnull=True
            )


CONFLICT_MESSAGES = {
    ClaimReason.BOUND_ELSEWHERE: _lazy(
        "该证件号码已绑定其他手机号，请使用原手机号登录；如已更换手机号，请携带身份证到任一政务服务大厅窗口办理。"
    ),
    ClaimReason.SERVICE_MISMATCH: _lazy(
        "实名核验未通过：该手机号的登记信息与所填证件不一致。请核对，或携带身份证到任一政务服务大厅窗口办理实名绑定。"
    ),
    ClaimReason.RECORD_MISMATCH: _lazy(
        "该证件号码在窗口登记的是其他手机号，无法在线绑定。请携带身份证到任一政务服务大厅窗口办理实名绑定。"
    ),
}


def _refuse_claim(*, phone: str, number: str, name: str, reason: str) -> ValidationError:
    _flag_claim(phone=phone, number=number, name=name, reason=reason)
    return ValidationError({"id_number": [str(CONFLICT_MESSAGES[ClaimReason(reason)])]}, code="identity_conflict")


def _bound_elsewhere(digest: str, phone: str) -> bool:
    return (
        User.objects.filter(role=Role.CITIZEN, id_number_hash=digest, id_verified_at__isnull=False)
        .exclude(phone=phone)
        .exists()
    )


def _current_code(phone: str, now: datetime) -> OtpCode | None:
    # A snapshot: its `attempts` may be stale by the time we act, so it is never trusted for the cap.
    return OtpCode.objects.filter(phone=phone, used_at__isnull=True, expires_at__gt=now).order_by("-created_at").first()


def verify_otp(
    *, phone: str, code: str, name: str | None = None, id_number: str | None = None, device: str | None = None
) -> tuple[User, str]:
    """Check a login code; on the first login bind the real name and ID number. Returns (user, token).

    The check digit only proves the number is well formed: the binding is *verified* only with
    evidence (accounts.realname: the national real-name service, or a window's record of this ID
    card with this phone); without any it stays a declaration, which links nothing to the account.
    A conflicting claim (the number is verified for another phone, the service says the phone is
    someone else's, or the window recorded another phone for it) is refused with a clear message and
    flagged for a clerk (IdentityClaim), never merged.

    Side effects: marks the code used (single use, guarded by a conditional UPDATE so two
    concurrent verifications cannot both succeed), creates the citizen on first login, records the
    verification, and issues an API token. A wrong code only counts an attempt; a refused claim
    only opens (or counts on) an IdentityClaim; nothing else changes.
    """
    from accounts.realname import Verdict, evidence_for

    phone = _citizen_phone(phone)
    code = (code or "").strip()
    invalid = ValidationError({"code": [_("验证码错误或已过期，请重新获取。")]})
    if not re.fullmatch(r"\d{6}", code):
        raise invalid
    now = timezone.now()
    if device and _window_count(f"verify-dev:{device}") >= settings.OTP_VERIFY_PER_DEVICE_PER_HOUR:
        raise RateLimited(_("尝试次数过多，请稍后再试。"), retry_after=3600)
    otp = _current_code(phone, now)
    if otp is None:
        raise invalid
    # Take an attempt before evaluating anything, with a conditional UPDATE: of 40 parallel guesses
    # only OTP_MAX_ATTEMPTS get past this line (a read-then-increment let 7 through). Every call
    # spends one — a right code followed by a refused binding too — so one valid code cannot answer
    # unlimited "is this ID number registered?" probes.
    reserved = OtpCode.objects.filter(pk=otp.pk, used_at__isnull=True, attempts__lt=settings.OTP_MAX_ATTEMPTS).update(
        attempts=F("attempts") + 1
    )
    if device:
        _window_hit(f"verify-dev:{device}")
    if not reserved or not _matches(otp.code_hash, phone, code):
        raise invalid

    existing = User.objects.filter(phone=phone, role=Role.CITIZEN).first()
    kind = number = ""
    review = False
    binding = existing is None or not existing.id_number_protected
    if binding:
        errors: dict[str, list[str]] = {}
        if not (name or "").strip():
            errors["name"] = [_("首次登录请填写真实姓名。")]
        if not (id_number or "").strip():
            errors["id_number"] = [_("首次登录请填写身份证号码或统一社会信用代码。")]
        else:
            try:
                kind, number, review = validate_applicant_identifier(id_number or "")
            except ValidationError as exc:
                errors["id_number"] = list(exc.messages)
        if errors:
            raise ValidationError(errors)
        digest = lookup_hash(number)
        claimed_name = (name or "").strip()
        if _bound_elsewhere(digest, phone):
            raise _refuse_claim(phone=phone, number=number, name=claimed_name, reason=ClaimReason.BOUND_ELSEWHERE)
    else:
        assert existing is not None
        number, claimed_name, digest = existing.id_number, existing.real_name, existing.id_number_hash
    # Ask for evidence outside the transaction (the national service is a network call). An
    # account already verified needs none; an unverified one is re-checked at every login, so a
    # window visit (or the service learning the number) verifies it later.
    evidence = None
    if binding or (
        existing is not None and existing.id_verified_at is None and existing.applicant_type != "enterprise"
    ):
        evidence = evidence_for(name=claimed_name, id_number=number, id_hash=digest, phone=phone)
        if binding and evidence.verdict == Verdict.MISMATCH:
            reason = (
                ClaimReason.SERVICE_MISMATCH if evidence.source == "real_name_service" else ClaimReason.RECORD_MISMATCH
            )
            raise _refuse_claim(phone=phone, number=number, name=claimed_name, reason=reason)
        # Another phone declared this number first (unverified): only evidence for THIS phone
        # overrides a declaration; otherwise the person settles it at a window.
        if (
            binding
            and evidence.verdict != Verdict.MATCH
            and User.objects.filter(role=Role.CITIZEN, id_number_hash=digest).exclude(phone=phone).exists()
        ):
            raise _refuse_claim(phone=phone, number=number, name=claimed_name, reason=ClaimReason.BOUND_ELSEWHERE)

    with transaction.atomic():
        user = User.objects.select_for_update().filter(phone=phone, role=Role.CITIZEN).first()
        if user is not None and binding and user.id_number_protected:
            raise invalid  # a concurrent first login bound this account meanwhile: start again
        # Claim the code last, inside the transaction: if binding fails the code stays usable.
        claimed = OtpCode.objects.filter(pk=otp.pk, used_at__isnull=True).update(used_at=now)
        if not claimed:
            raise invalid
        if user is None:
            try:
                user = User.objects.create(
                    username=f"citizen-{national(phone)}", phone=phone, role=Role.CITIZEN, is_staff=False
                )
            except IntegrityError:
                raise invalid from None
            user.set_unusable_password()
        if binding:
            user.real_name = claimed_name
            user.applicant_type = kind
            user.id_number_protected = protect(number)
            user.id_number_hash = digest
            user.id_needs_review = review
        if (
            evidence is not None
            and evidence.verdict == Verdict.MATCH
            and user.id_verified_at is None
            and not _bound_elsewhere(digest, phone)
        ):
            user.id_verified_at = now
            user.id_verified_via = evidence.source
        user.last_login = now
        user.save()
        token = tokens.issue(user)  # a new key at every login: the previous one stops working
    remember_device(device)
    return user, token.key


def confirm_identity(
    *, actor: User, phone: str, id_number: str, name: str = "", id_checked: bool = False
) -> tuple[User, int]:
    """A window clerk, holding the applicant's ID card, confirms that it belongs to the citizen
    account of ``phone`` (which that person proved by logging in with an SMS code). Returns the
    account and the number of open IdentityClaims this closes.

    Refused (400, nothing changed) without ``id_checked``, for an unknown phone, a bad number, or a
    number already verified for another phone (that conflict goes to a supervisor, never merged).
    Side effects: the account's name, number and verification (via window_clerk, by ``actor``);
    the open claims for this phone and number are resolved; the save raises
    ``accounts.extensions.identity_changed``, through which workflows links the cases received for
    the person at a window.
    """
    on_duty = extensions.on_duty.one()
    if actor.role != Role.WINDOW_CLERK or on_duty is None or not on_duty(actor):
        raise PermissionDenied(_("只有在岗的窗口人员可以当面核验实名。"))
    errors: dict[str, list[str]] = {}
    if id_checked is not True:
        errors["id_checked"] = [_("请先当面查验申请人的身份证件原件。")]
    try:
        phone = _citizen_phone(phone)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        phone = ""
    kind = number = ""
    review = False
    try:
        kind, number, review = validate_applicant_identifier(id_number or "")
    except ValidationError as exc:
        errors["id_number"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    citizen = User.objects.filter(phone=phone, role=Role.CITIZEN, is_active=True).first()
    if citizen is None:
        raise ValidationError({"phone": [_("该手机号尚未登录过本系统：请申请人先用此手机号短信登录一次。")]})
    digest = lookup_hash(number)
    if _bound_elsewhere(digest, phone):
        raise ValidationError(
            {"id_number": [_("该证件号码已实名绑定其他手机号的账号，不能在此合并；请报监督人员处理。")]}
        )
    now = timezone.now()
    with transaction.atomic():
        citizen = User.objects.select_for_update().get(pk=citizen.pk)
        if citizen.id_number_hash != digest:
            citizen.applicant_type = kind
            citizen.id_number_protected = protect(number)
            citizen.id_number_hash = digest
            citizen.id_needs_review = review
        if (name or "").strip():
            citizen.real_name = name.strip()[:64]
        citizen.id_verified_at = now
        citizen.id_verified_via = VerificationSource.WINDOW_CLERK
        citizen.id_verified_by = actor
        citizen.save()
        closed = IdentityClaim.objects.filter(phone=phone, id_number_hash=digest, resolved_at__isnull=True).update(
            resolved_at=now, resolved_by=actor, resolution=_("窗口当面核验后绑定")
        )
    return citizen, closed
