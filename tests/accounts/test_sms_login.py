"""Citizens log in with a one-time SMS code: file backend, locmem, and the Twilio stand-in."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.models import OtpCode, Role, User
from tests.fixtures.accounts import last_code, valid_id_number

pytestmark = pytest.mark.django_db(transaction=False)

PHONE = "13985012345"
ID = valid_id_number("52030219900101123")


def request_code(api_client, phone=PHONE, ip="10.1.2.3"):
    return api_client.post("/api/v1/auth/otp/", {"phone": phone}, format="json", REMOTE_ADDR=ip)


def verify(api_client, code, phone=PHONE, **extra):
    return api_client.post("/api/v1/auth/otp/verify/", {"phone": phone, "code": code, **extra}, format="json")


def test_first_login_binds_name_and_id_then_later_logins_need_only_the_code(
    api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert request_code(api_client).status_code == 202
    code = last_code(PHONE)
    # First login without the real name / ID number is refused and the code stays usable.
    resp = verify(api_client, code)
    assert resp.status_code == 400 and {"name", "id_number"} <= set(resp.json()["errors"])
    resp = verify(api_client, code, name="张三", id_number=ID)
    assert resp.status_code == 200, resp.content
    token = resp.json()["token"]
    user = User.objects.get(phone=PHONE)
    assert user.role == Role.CITIZEN and user.real_name == "张三" and user.id_number == ID
    assert ID not in user.id_number_protected  # encrypted at rest
    me = api_client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Token {token}").json()
    assert me["id_number_masked"] == ID[:6] + "********" + ID[-4:]
    assert ID not in str(me)

    # The code is single-use.
    assert verify(api_client, code).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        request_code(api_client)
    resp = verify(api_client, last_code(PHONE))
    # The same account, with a rotated token (issue 11: a login issues a new key, the old one dies).
    assert resp.status_code == 200 and resp.json()["token"] != token
    assert api_client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401
    me = api_client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Token {resp.json()['token']}").json()
    assert me["id_number_masked"] == ID[:6] + "********" + ID[-4:]


def test_codes_are_stored_hashed_and_expire(api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request_code(api_client)
    code = last_code(PHONE)
    otp = OtpCode.objects.get()
    assert code not in otp.code_hash
    OtpCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    resp = verify(api_client, code, name="张三", id_number=ID)
    assert resp.status_code == 400 and "过期" in resp.json()["detail"]
    assert not User.objects.filter(phone=PHONE).exists()


@override_settings(OTP_MAX_ATTEMPTS=3)
def test_wrong_codes_burn_the_code(api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request_code(api_client)
    code = last_code(PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(3):
        assert verify(api_client, wrong, name="张三", id_number=ID).status_code == 400
    # After too many attempts even the right code no longer works.
    assert verify(api_client, code, name="张三", id_number=ID).status_code == 400


@override_settings(OTP_PER_PHONE_PER_HOUR=2, OTP_PER_IP_PER_HOUR=3)
def test_rate_limited_per_phone_and_per_address(api_client):
    assert request_code(api_client).status_code == 202
    assert request_code(api_client).status_code == 202
    resp = request_code(api_client)
    assert resp.status_code == 429 and "频繁" in resp.json()["detail"]
    assert OtpCode.objects.filter(phone=PHONE).count() == 2
    assert request_code(api_client, phone="13985000001").status_code == 202
    assert request_code(api_client, phone="13985000002").status_code == 429  # 4th from this address
    assert request_code(api_client, phone="13985000002", ip="10.9.9.9").status_code == 202


@pytest.mark.parametrize("phone", ["", "12345", "23985012345", "1398501234x"])
def test_bad_phone_400_nothing_written(api_client, phone):
    resp = request_code(api_client, phone=phone)
    assert resp.status_code == 400 and "phone" in resp.json()["errors"]
    assert not OtpCode.objects.exists()


def test_bad_id_number_refused_and_nothing_bound(api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request_code(api_client)
    code = last_code(PHONE)
    resp = verify(api_client, code, name="张三", id_number=ID[:17] + ("0" if ID[17] != "0" else "1"))
    assert resp.status_code == 400 and "校验位" in resp.json()["errors"]["id_number"][0]
    assert not User.objects.filter(phone=PHONE).exists()
    assert verify(api_client, code, name="张三", id_number=ID).status_code == 200


def test_same_id_cannot_bind_a_second_phone(api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request_code(api_client)
    verify(api_client, last_code(PHONE), name="张三", id_number=ID)
    with django_capture_on_commit_callbacks(execute=True):
        request_code(api_client, phone="13985099999")
    resp = verify(api_client, last_code("13985099999"), phone="13985099999", name="张三", id_number=ID)
    assert resp.status_code == 400 and "已绑定" in resp.json()["errors"]["id_number"][0]


def test_login_through_the_file_backend(api_client, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_DIR = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        request_code(api_client)
    files = list(Path(tmp_path).iterdir())
    assert len(files) == 1
    text = files[0].read_text(encoding="utf-8")
    code = re.search(r"验证码为(\d{6})", text).group(1)
    assert verify(api_client, code, name="李四", id_number=ID).status_code == 200


def test_login_through_the_twilio_standin(api_client, twilio_standin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request_code(api_client)
    assert len(twilio_standin.requests) == 1
    request = twilio_standin.requests[0]
    assert request.authorized and request.form["To"] == "+86" + PHONE
    sent = request.form["Body"]
    code = re.search(r"验证码为(\d{6})", sent).group(1)
    assert verify(api_client, code, name="王五", id_number=ID).status_code == 200


def test_sms_login_page(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post("/accounts/sms-login/", {"phone": PHONE, "action": "send"})
    assert resp.status_code == 200 and "验证码已发送" in resp.content.decode()
    resp = client.post(
        "/accounts/sms-login/",
        {"phone": PHONE, "action": "verify", "code": last_code(PHONE), "name": "张三", "id_number": ID},
    )
    assert resp.status_code == 302
    assert client.session.get("_auth_user_id")
