"""Writes on accounts: citizens' SMS login and staff creation."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from accounts.identity import validate_applicant_identifier
from accounts.models import OtpCode, Role, User
from accounts.protect import lookup_hash, protect
from notifications.phone import normalize_phone


class RateLimited(Exception):
    """Too many codes requested for this phone or from this address."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def normalise_phone(phone: str) -> str:
    """Return a mainland mobile number as its 11 local digits (how User/OtpCode store it).

    Parsing is notifications.phone.normalize_phone's (one definition of a valid number system-wide);
    citizens log in with mainland mobiles only, so any other E.164 number is refused here.
    """
    try:
        e164 = normalize_phone(phone or "")
    except ValueError:
        e164 = ""
    if not e164.startswith("+86"):
        raise ValidationError({"phone": [_("请输入有效的11位手机号码。")]})
    return e164[3:]


def _code_hash(phone: str, code: str, salt: str) -> str:
    mac = hmac.new(settings.SECRET_KEY.encode(), f"{salt}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()
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

    phone = normalise_phone(phone)
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


def _current_code(phone: str, now: datetime) -> OtpCode | None:
    # A snapshot: its `attempts` may be stale by the time we act, so it is never trusted for the cap.
    return OtpCode.objects.filter(phone=phone, used_at__isnull=True, expires_at__gt=now).order_by("-created_at").first()


def verify_otp(
    *, phone: str, code: str, name: str | None = None, id_number: str | None = None, device: str | None = None
) -> tuple[User, str]:
    """Check a login code; on the first login bind the real name and ID number. Returns (user, token).

    Side effects: marks the code used (single use, guarded by a conditional UPDATE so two
    concurrent verifications cannot both succeed), creates the citizen on first login, and issues
    an API token. A wrong code only counts an attempt; nothing else changes.
    """
    phone = normalise_phone(phone)
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

    with transaction.atomic():
        user = User.objects.select_for_update().filter(phone=phone, role=Role.CITIZEN).first()
        kind = number = ""
        review = False
        if user is None or not user.id_number_protected:
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
            if User.objects.filter(role=Role.CITIZEN, id_number_hash=digest).exclude(phone=phone).exists():
                raise ValidationError({"id_number": [_("该证件号码已绑定其他手机号，请使用原手机号登录。")]})
        # Claim the code last, inside the transaction: if binding fails the code stays usable.
        claimed = OtpCode.objects.filter(pk=otp.pk, used_at__isnull=True).update(used_at=now)
        if not claimed:
            raise invalid
        if user is None:
            try:
                user = User.objects.create(username=f"citizen-{phone}", phone=phone, role=Role.CITIZEN, is_staff=False)
            except IntegrityError:
                raise invalid from None
            user.set_unusable_password()
        if not user.id_number_protected:
            user.real_name = (name or "").strip()
            user.applicant_type = kind
            user.id_number_protected = protect(number)
            user.id_number_hash = lookup_hash(number)
            user.id_needs_review = review
        user.last_login = now
        user.save()
        token, _created = Token.objects.get_or_create(user=user)
    remember_device(device)
    return user, token.key


def create_staff(
    *,
    username: str,
    role: str,
    password: str,
    hall: str | None = None,
    window: str | None = None,
    department: str | None = None,
    region: str | None = None,
    real_name: str = "",
) -> User:
    """Create a staff account with its jurisdiction (post, department or region) in one transaction."""
    from govmap.models import Region
    from halls.models import Hall, StaffPost, Window
    from services.models import Department

    errors: dict[str, list[str]] = {}
    staff_roles = [r.value for r in Role if r != Role.CITIZEN]
    if role not in staff_roles:
        raise ValidationError({"role": [_("角色必须是以下之一：%s") % ", ".join(staff_roles)]})
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": [_("用户名 %s 已存在。") % username]})
    hall_obj = window_obj = dept_obj = region_obj = None
    if hall:
        hall_obj = Hall.objects.filter(code=hall).first()
        if hall_obj is None:
            errors["hall"] = [_("找不到编码为 %s 的服务场所。") % hall]
    if window:
        if hall_obj is None:
            errors.setdefault("window", []).append(_("指定窗口时必须同时指定 --hall。"))
        else:
            window_obj = Window.objects.filter(hall=hall_obj, number=window).first()
            if window_obj is None:
                errors["window"] = [_("%(hall)s 没有 %(number)s 号窗口。") % {"hall": hall_obj.name, "number": window}]
    if department:
        dept_obj = Department.objects.filter(code=department).first()
        if dept_obj is None:
            errors["department"] = [_("找不到编码为 %s 的部门。") % department]
    if region:
        region_obj = Region.objects.filter(adcode=region).first()
        if region_obj is None:
            errors["region"] = [_("找不到行政区划代码 %s。") % region]
    if role in (Role.WINDOW_CLERK, Role.HALL_SUPERVISOR) and not hall:
        errors.setdefault("hall", []).append(_("窗口人员和大厅监督人员必须指定 --hall。"))
    if role == Role.APPROVER and not department:
        errors.setdefault("department", []).append(_("审批人员必须指定 --department。"))
    if role == Role.SUPERVISOR and not region:
        errors.setdefault("region", []).append(_("监督人员必须指定 --region。"))
    candidate = User(username=username, role=role)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        user = User.objects.create_user(
            username=username,
            password=password,
            role=role,
            real_name=real_name,
            department=dept_obj,
            region=region_obj or (dept_obj.region if dept_obj else None),
            is_staff=True,  # every staff role may open the admin for its own models' read views
            is_superuser=(role == Role.ADMIN and region_obj is None),
        )
        if hall_obj is not None:
            StaffPost.objects.create(user=user, hall=hall_obj, window=window_obj)
    return user
