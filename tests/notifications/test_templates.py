"""SMS templates and phone numbers."""

from __future__ import annotations

import pytest

from core.phones import mask_phone, normalize_phone
from notifications.templates_sms import all_templates, get_template, render


def test_otp_code_renders_the_agreed_text():
    assert render("otp_code", {"code": "123456", "minutes": 5}) == (
        "【贵州政务服务】您的验证码为123456，5分钟内有效，请勿泄露。"
    )


def test_signature_follows_the_sms_sender_setting(settings):
    settings.SMS_SENDER = "遵义政务"
    assert render("otp_code", {"code": "1", "minutes": 5}).startswith("【遵义政务】")


def test_correction_lists_every_problem_numbered():
    text = render(
        "case_needs_correction",
        {"case_number": "GZ2025-000001", "item_name": "食品经营许可", "problems": ["缺营业执照副本", "申请表未签字"]},
    )
    assert "1. 缺营业执照副本；2. 申请表未签字" in text
    assert "GZ2025-000001" in text


def test_pickup_names_hall_and_window():
    text = render(
        "case_ready_for_pickup",
        {"case_number": "N1", "item_name": "X", "hall_name": "遵义市政务服务中心", "window": "12"},
    )
    assert "遵义市政务服务中心12号窗口" in text


def test_defaults_fill_optional_variables():
    assert "前面还有3位" in render("queue_near", {"hall_name": "贵阳市政务服务中心", "ticket_number": "A015"})
    assert "前面还有5位" in render("queue_near", {"hall_name": "H", "ticket_number": "A015", "ahead": 5})


@pytest.mark.parametrize(
    ("name", "context", "missing"),
    [
        ("otp_code", {"code": "123456"}, "minutes"),
        ("otp_code", {"code": "", "minutes": 5}, "code"),
        ("case_mailed", {"case_number": "N1", "item_name": "X"}, "tracking_number"),
        ("case_needs_correction", {"case_number": "N1", "item_name": "X", "problems": []}, "problems"),
        ("case_ready_for_pickup", {"case_number": "N1", "item_name": "X", "hall_name": "H"}, "window"),
    ],
)
def test_missing_variable_is_a_clear_value_error(name, context, missing):
    with pytest.raises(ValueError, match=f"缺少变量：.*{missing}"):
        render(name, context)


def test_unknown_template_is_a_value_error():
    with pytest.raises(ValueError, match="未知的短信模板"):
        render("no_such_template", {})


def test_every_template_renders_with_its_required_variables():
    expected = {
        "otp_code",
        "case_received",
        "case_needs_correction",
        "case_accepted",
        "case_decided",
        "case_ready_for_pickup",
        "case_mailed",
        "queue_near",
        "rating_invitation",
        "rectification_reply",
    }
    names = {t.name for t in all_templates()}
    assert expected <= names
    for tpl in all_templates():
        text = tpl.render({v: "值" for v in tpl.required})
        assert text.startswith("【贵州政务服务】")
        assert "{" not in text


def test_redaction_masks_only_sensitive_values():
    tpl = get_template("otp_code")
    assert tpl.redact({"code": "123456", "minutes": 5}) == {"code": "******", "minutes": 5}


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13800138000", "+8613800138000"),
        ("138-0013-8000", "+8613800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("8613800138000", "+8613800138000"),
        ("008613800138000", "+8613800138000"),
        ("+15005550006", "+15005550006"),
    ],
)
def test_phone_numbers_are_normalized_to_e164(raw, e164):
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize("raw", ["", "12345", "12800138000", "+86123", "abc", "+8612800138000", "1380013800O"])
def test_invalid_phone_numbers_are_refused(raw):
    with pytest.raises(ValueError, match="无效的手机号码"):
        normalize_phone(raw)


def test_mask_phone():
    assert mask_phone("+8613800138000") == "138****8000"
