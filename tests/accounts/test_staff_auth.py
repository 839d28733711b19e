import pytest
from django.test import override_settings

from accounts.models import Role
from tests.fixtures.accounts import STRONG_PASSWORD

pytestmark = pytest.mark.django_db


def test_staff_token(api_client, make_user):
    make_user(Role.APPROVER, username="appr")
    resp = api_client.post("/api/v1/auth/token/", {"username": "appr", "password": STRONG_PASSWORD}, format="json")
    assert resp.status_code == 200, resp.content
    token = resp.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api_client.get("/api/v1/auth/me/")
    assert me.status_code == 200 and me.json()["role"] == "approver"


def test_bad_credentials_401_and_bad_input_400(api_client, make_user):
    make_user(Role.APPROVER, username="appr")
    resp = api_client.post("/api/v1/auth/token/", {"username": "appr", "password": "wrong"}, format="json")
    assert resp.status_code == 401
    resp = api_client.post("/api/v1/auth/token/", {"username": "appr"}, format="json")
    assert resp.status_code == 400
    body = resp.json()
    assert "password" in body["errors"] and body["detail"]


def test_citizen_cannot_get_staff_token(api_client, make_user):
    make_user(Role.CITIZEN, username="cit")
    resp = api_client.post("/api/v1/auth/token/", {"username": "cit", "password": STRONG_PASSWORD}, format="json")
    assert resp.status_code == 401


@override_settings(AXES_FAILURE_LIMIT=3)
def test_axes_locks_out_after_failures(api_client, make_user):
    make_user(Role.WINDOW_CLERK, username="clerk")
    for _ in range(3):
        api_client.post("/api/v1/auth/token/", {"username": "clerk", "password": "nope"}, format="json")
    # Even the right password is refused while locked out.
    resp = api_client.post("/api/v1/auth/token/", {"username": "clerk", "password": STRONG_PASSWORD}, format="json")
    assert resp.status_code == 429
    assert "锁定" in resp.json()["detail"]


@override_settings(AXES_FAILURE_LIMIT=2)
def test_axes_guards_the_login_page(client, make_user):
    make_user(Role.WINDOW_CLERK, username="clerk2")
    for _ in range(2):
        client.post("/accounts/login/", {"username": "clerk2", "password": "nope"})
    resp = client.post("/accounts/login/", {"username": "clerk2", "password": STRONG_PASSWORD})
    assert resp.status_code in (403, 429)
    assert "_auth_user_id" not in client.session


def test_login_page_in_chinese_and_english(client):
    resp = client.get("/accounts/login/")
    assert resp.status_code == 200 and "工作人员登录" in resp.content.decode()
    resp = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 200


def test_staff_land_on_their_workbench_unless_next_says_otherwise(client, make_user):
    make_user(Role.WINDOW_CLERK, username="clerk3")
    resp = client.post("/accounts/login/", {"username": "clerk3", "password": STRONG_PASSWORD})
    assert resp.status_code == 302 and resp["Location"] == "/workbench/"
    client.logout()
    resp = client.post(
        "/accounts/login/?next=/supervision/ratings/", {"username": "clerk3", "password": STRONG_PASSWORD}
    )
    assert resp.status_code == 302 and resp["Location"] == "/supervision/ratings/"
    client.logout()
    resp = client.post("/accounts/login/", {"username": "clerk3", "password": "wrong"})
    assert resp.status_code == 200 and "_auth_user_id" not in client.session


def test_header_logout_button_lines_up_and_messages_are_styled(client):
    css = client.get("/static/css/site.css")
    body = b"".join(css.streaming_content).decode()
    assert (
        "button.link { background: none; border: 0; cursor: pointer; font: inherit; padding: 0; margin-top: 0; }"
        in body
    )
    assert ".messages { list-style: none;" in body
