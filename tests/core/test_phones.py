"""core.phones: the one parser, the one stored form (E.164), the one mask, and PhoneField."""

from __future__ import annotations

import pytest

from accounts.models import OtpCode, Role, User
from core.phones import mainland_mobile, mask_phone, national, normalize_phone, stored_or_raw


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("(138) 0013.8000", "+8613800138000"),
        ("+8613800138000", "+8613800138000"),
        ("008613800138000", "+8613800138000"),
        ("+15005550006", "+15005550006"),
    ],
)
def test_every_typed_form_becomes_e164(raw, stored):
    assert normalize_phone(raw) == stored
    assert stored_or_raw(raw) == stored


@pytest.mark.parametrize("raw", ["", "12345", "12800138000", "+86123", "abc"])
def test_what_is_not_a_phone_is_refused_or_left_alone(raw):
    with pytest.raises(ValueError):
        normalize_phone(raw)
    assert stored_or_raw(raw) == raw


def test_mainland_mobile_refuses_foreign_numbers():
    assert mainland_mobile("138-0013-8000") == "+8613800138000"
    with pytest.raises(ValueError):
        mainland_mobile("+15005550006")


def test_national_and_mask_render_as_before():
    assert national("+8613800138000") == "13800138000"
    assert national("+15005550006") == "+15005550006"
    assert national("") == ""
    assert mask_phone("+8613800138000") == mask_phone("13800138000") == "138****8000"


@pytest.mark.django_db
def test_phone_field_stores_and_compares_in_e164():
    user = User.objects.create(username="citizen-13800138000", phone="138 0013 8000", role=Role.CITIZEN)
    assert User.objects.values_list("phone", flat=True).get(pk=user.pk) == "+8613800138000"
    for form in ["13800138000", "+8613800138000", "008613800138000"]:
        assert User.objects.filter(phone=form).get() == user
        assert User.objects.filter(phone__in=[form]).get() == user
    assert User.objects.get(pk=user.pk).phone_masked == "138****8000"
    # Blank stays blank (exclude(phone="") keeps working); an unparseable lookup finds nothing.
    assert not User.objects.filter(phone="12345").exists()
    assert User.objects.exclude(phone="").count() == 1


@pytest.mark.django_db
def test_update_queries_normalise_too():
    user = User.objects.create(username="u1", role=Role.CITIZEN)
    User.objects.filter(pk=user.pk).update(phone="13900000001")
    assert User.objects.values_list("phone", flat=True).get(pk=user.pk) == "+8613900000001"


def test_no_app_of_ours_is_imported_by_core():
    import ast
    from pathlib import Path

    ours = {"accounts", "citizen_portal", "config", "govmap", "halls", "ledger", "licences", "notifications"}
    ours |= {"ratings", "remote", "services", "workdays", "workflows"}
    for path in Path(__file__).resolve().parents[2].joinpath("core").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in ours, (path.name, node.module)
            if isinstance(node, ast.Import):
                assert not {a.name.split(".")[0] for a in node.names} & ours, path.name


@pytest.mark.django_db
def test_otp_code_rows_are_e164():
    from accounts.actions import request_otp

    request_otp(phone="139-8500-0099", ip="10.0.0.1")
    assert OtpCode.objects.values_list("phone", flat=True).get() == "+8613985000099"
