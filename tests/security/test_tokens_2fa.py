"""Finding 9 (authentication): tokens expire, rotate on login and die on logout or by an admin;
approvers, supervisors and admins need a second factor in production; staff sessions are short."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client, override_settings
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import twofactor
from accounts.models import Role
from tests.fixtures.accounts import STRONG_PASSWORD

pytestmark = pytest.mark.django_db


def staff_token(username, password=STRONG_PASSWORD, **extra):
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password, **extra}, format="json")


def me(key):
    return APIClient().get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Token {key}")


def code_for(user) -> str:
    device = TOTPDevice.objects.get(user=user)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def test_tokens_expire_and_rotate_on_login(make_user, settings):
    settings.STAFF_TOKEN_TTL_SECONDS = 3600
    make_user(Role.WINDOW_CLERK, username="clerk")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        first = staff_token("clerk").json()["token"]
        assert me(first).status_code == 200
        second = staff_token("clerk").json()["token"]
        assert second != first and me(first).status_code == 401  # rotated: the old key is dead
    with time_machine.travel(start + dt.timedelta(minutes=59), tick=False):
        assert me(second).status_code == 200
    with time_machine.travel(start + dt.timedelta(minutes=61), tick=False):
        resp = me(second)
        assert resp.status_code == 401 and "过期" in resp.json()["detail"]
    assert not Token.objects.filter(key=second).exists()


def test_logout_revokes_the_token_api_and_site(make_user):
    user = make_user(Role.WINDOW_CLERK, username="clerk")
    key = staff_token("clerk").json()["token"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.post("/api/v1/auth/logout/").status_code == 204
    assert me(key).status_code == 401
    # Logging out of the site ends the API token too.
    key = staff_token("clerk").json()["token"]
    site = Client()
    site.force_login(user)
    site.post("/accounts/logout/")
    assert me(key).status_code == 401


def test_admin_revokes_tokens(make_user):
    from django.contrib.admin.sites import site as admin_site

    from accounts.admin import UserAdmin
    from accounts.models import User

    make_user(Role.WINDOW_CLERK, username="clerk")
    key = staff_token("clerk").json()["token"]
    root = User.objects.create_superuser(username="root", password=STRONG_PASSWORD, role=Role.ADMIN)
    c = Client()
    c.force_login(root)
    resp = c.post(
        "/admin/accounts/user/",
        {"action": "revoke_tokens", "_selected_action": [User.objects.get(username="clerk").pk]},
    )
    assert resp.status_code == 302 and me(key).status_code == 401
    assert UserAdmin in {type(a) for a in admin_site._registry.values()}


@override_settings(STAFF_2FA_REQUIRED=True)
def test_production_refuses_approvers_without_a_second_factor(make_user):
    approver = make_user(Role.APPROVER, username="approver")
    make_user(Role.WINDOW_CLERK, username="clerk")
    resp = staff_token("approver")
    assert resp.status_code == 401 and "绑定动态口令" in resp.json()["detail"]
    page = Client().post("/accounts/login/", {"username": "approver", "password": STRONG_PASSWORD})
    assert page.status_code == 200 and "绑定动态口令" in page.content.decode()
    # The admin's login page is the same form.
    page = Client().post("/admin/login/", {"username": "approver", "password": STRONG_PASSWORD})
    assert page.status_code == 200 and "绑定动态口令" in page.content.decode()
    # A window clerk is not in the second-factor roles.
    assert staff_token("clerk").status_code == 200

    enrolment = twofactor.enroll(approver)
    assert staff_token("approver").status_code == 401  # password alone
    code = code_for(approver)
    assert staff_token("approver", otp=code).status_code == 200
    assert staff_token("approver", otp=code).status_code == 401  # a code is not replayable
    # A recovery code works once.
    recovery = enrolment.recovery_codes[0]
    assert staff_token("approver", otp=recovery).status_code == 200
    assert staff_token("approver", otp=recovery).status_code == 401
    wrong = "000000" if code_for(approver) != "000000" else "111111"
    assert staff_token("approver", otp=wrong).status_code == 401


@pytest.mark.parametrize("role", [Role.APPROVER, Role.SUPERVISOR, Role.HALL_SUPERVISOR, Role.ADMIN])
def test_second_factor_roles(role, make_user):
    user = make_user(role, username=f"u-{role}")
    with override_settings(STAFF_2FA_REQUIRED=True):
        assert twofactor.needs_second_factor(user)
    with override_settings(STAFF_2FA_REQUIRED=False):
        # The embedded default (make run, demo accounts): password only until a device is enrolled,
        assert not twofactor.needs_second_factor(user)
        assert staff_token(f"u-{role}").status_code == 200
        twofactor.enroll(user)
        # after which the code is always asked for.
        assert twofactor.needs_second_factor(user) and staff_token(f"u-{role}").status_code == 401


def test_staff_sessions_last_a_working_day_citizens_keep_two_weeks(make_user, settings):
    make_user(Role.WINDOW_CLERK, username="clerk")
    c = Client()
    resp = c.post("/accounts/login/", {"username": "clerk", "password": STRONG_PASSWORD})
    assert resp.status_code == 302
    assert c.session.get_expiry_age() == settings.STAFF_SESSION_SECONDS == 8 * 3600
