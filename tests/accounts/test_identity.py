import pytest
from django.core.exceptions import ValidationError

from accounts.identity import validate_applicant_identifier, validate_id_number, validate_uscc
from accounts.protect import lookup_hash, mask_id_number, mask_phone, protect, reveal
from tests.fixtures.accounts import valid_id_number


def test_valid_guiyang_number():
    number = valid_id_number("52010219900307123")
    assert validate_id_number(number) == (number, False)


def test_lowercase_x_is_normalised():
    prefix = next(p for p in (f"52010219900307{i:03d}" for i in range(1000)) if valid_id_number(p).endswith("X"))
    number = valid_id_number(prefix)
    assert validate_id_number(number.lower())[0] == number


def test_unknown_region_with_right_check_digit_is_accepted_and_flagged():
    # 529999 is not a region in the table; the check digit and birth date are right.
    number = valid_id_number("52999920100101123")
    assert validate_id_number(number) == (number, True)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "18位"),
        ("5201021990", "18位"),
        ("52010219900307123A", "格式"),
        ("520102199003071230", "校验位"),
    ],
)
def test_bad_id_numbers(value, message):
    if message == "校验位":
        good = valid_id_number(value[:17])
        value = value[:17] + ("1" if good[-1] != "1" else "2")
    with pytest.raises(ValidationError) as exc:
        validate_id_number(value)
    assert message in exc.value.messages[0]


def test_impossible_birth_date():
    with pytest.raises(ValidationError) as exc:
        validate_id_number(valid_id_number("52010219901340123"))
    assert "出生日期" in exc.value.messages[0]


def test_uscc():
    from stdnum.cn import uscc

    base = "91520100MA6DK0A7"
    code = next(base + c + "X" for c in "0123456789ABCDEFGHJKLMNPQRTUWXY")
    code = code[:17] + uscc.calc_check_digit(code[:17])
    assert validate_uscc(code) == code
    assert validate_applicant_identifier(code) == ("enterprise", code, False)
    with pytest.raises(ValidationError):
        validate_uscc(code[:17] + ("0" if code[17] != "0" else "1"))


def test_protection_round_trip_and_masks(settings):
    number = valid_id_number("52030219850612345")
    token = protect(number)
    assert number not in token
    assert reveal(token) == number
    assert lookup_hash(number) == lookup_hash(number.lower())
    assert mask_id_number(number) == number[:6] + "********" + number[-4:]
    assert mask_phone("13800001234") == "138****1234"
