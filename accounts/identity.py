"""Validation of citizens' ID numbers (居民身份证, GB 11643) and enterprises' USCC (GB 32100).

python-stdnum checks that the region code existed in the holder's birth year, but its table lags
new regions (黔西市 520581 was created in 2021). A number whose check digit and birth date are right
but whose region code the table does not know is accepted and flagged for a clerk to confirm, so a
real citizen is never turned away on that alone.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_exc
from stdnum.cn import ric, uscc


def validate_id_number(value: str) -> tuple[str, bool]:
    """Return (normalised number, needs_review). Raises ValidationError with a Chinese message."""
    number = ric.compact(value or "").upper()
    if len(number) != 18:
        raise ValidationError(_("身份证号码应为18位。"), code="invalid_length")
    if not number[:-1].isdigit() or not (number[-1].isdigit() or number[-1] == "X"):
        raise ValidationError(_("身份证号码格式不正确。"), code="invalid_format")
    if number[-1] != ric.calc_check_digit(number):
        raise ValidationError(_("身份证号码校验位不正确，请核对。"), code="invalid_checksum")
    try:
        birth = ric.get_birth_date(number)
    except stdnum_exc.ValidationError:
        raise ValidationError(_("身份证号码中的出生日期无效。"), code="invalid_birth_date") from None
    if birth > timezone.localdate() or birth < date(1890, 1, 1):
        raise ValidationError(_("身份证号码中的出生日期无效。"), code="invalid_birth_date")
    try:
        ric.get_birth_place(number)
    except (stdnum_exc.ValidationError, KeyError):
        # KeyError: stdnum's table knows the province part of the code but not the county.
        # Check digit and birth date are right; only the region table disagrees → flag, don't refuse.
        return number, True
    return number, False


def validate_uscc(value: str) -> str:
    """Return the normalised unified social credit code (统一社会信用代码)."""
    try:
        return str(uscc.validate(value or ""))
    except stdnum_exc.InvalidLength:
        raise ValidationError(_("统一社会信用代码应为18位。"), code="invalid_length") from None
    except stdnum_exc.InvalidChecksum:
        raise ValidationError(_("统一社会信用代码校验位不正确，请核对。"), code="invalid_checksum") from None
    except stdnum_exc.ValidationError:
        raise ValidationError(_("统一社会信用代码格式不正确。"), code="invalid_format") from None


def validate_applicant_identifier(value: str) -> tuple[str, str, bool]:
    """Accept either an ID number or a USCC: returns (kind, number, needs_review)."""
    compact = (value or "").replace(" ", "").upper()
    if compact[:1].isdigit() and compact[:17].isdigit():
        number, review = validate_id_number(compact)
        return "person", number, review
    return "enterprise", validate_uscc(compact), False
