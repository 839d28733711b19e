"""Second factor for staff who decide or oversee (django-otp): TOTP from an authenticator app, with
single-use recovery codes for a lost phone.

Who: approvers, supervisors (region and hall) and admins — the roles whose password alone would let
someone approve licences or read a province's cases. When: always once they enrolled a device; and
with STAFF_2FA_REQUIRED (production settings) a login without a confirmed device is refused, so the
embedded default and the demo accounts (`make run`) keep logging in with a password only.

Enrolment is an operator step (`manage.py enroll_totp <username>`): it prints the otpauth:// URL
for the authenticator app and ten recovery codes, once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, User

SECOND_FACTOR_ROLES = {Role.APPROVER, Role.SUPERVISOR, Role.HALL_SUPERVISOR, Role.ADMIN}
RECOVERY_CODES = 10


def enforced() -> bool:
    return bool(settings.STAFF_2FA_REQUIRED)


def needs_second_factor(user: User) -> bool:
    """True when this login must present a one-time code (role + enforcement, or an enrolled device)."""
    if user.role not in SECOND_FACTOR_ROLES and not user.is_superuser:
        return False
    return enforced() or has_device(user)


def has_device(user: User) -> bool:
    return any(True for _d in devices_for_user(user, confirmed=True))


class SecondFactorMissing(Exception):
    """The account must enrol a device before it can log in (production)."""


def check(user: User, code: str | None) -> bool:
    """Verify `code` against the user's TOTP and recovery-code devices (a recovery code is spent).

    django-otp throttles each device after failures (exponential back-off), so guessing six digits
    is not a race either. Raises SecondFactorMissing when enforcement is on and nothing is enrolled.
    """
    devices = list(devices_for_user(user, confirmed=True, for_verify=True))
    if not devices:
        if enforced():
            raise SecondFactorMissing
        return True
    token = (code or "").strip().replace(" ", "")
    if not token:
        return False
    # Six digits are the authenticator's, anything else a recovery code: trying a token on the other
    # kind of device would only count a failure there (django-otp throttles each device on failures).
    is_totp = token.isdigit() and len(token) == 6
    candidates = [d for d in devices if isinstance(d, TOTPDevice) == is_totp]
    with transaction.atomic():
        return any(device.verify_token(token) for device in candidates)


@dataclass
class Enrolment:
    config_url: str
    recovery_codes: list[str]


def enroll(user: User, *, name: str = "authenticator") -> Enrolment:
    """Replace the user's devices by a new TOTP device and a fresh set of recovery codes."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        totp = TOTPDevice.objects.create(user=user, name=name, confirmed=True)
        static = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
        codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create([StaticToken(device=static, token=c) for c in codes])
    return Enrolment(config_url=totp.config_url, recovery_codes=codes)
