"""The twilio backend against the local stand-in, and the signed status callback."""

from __future__ import annotations

import base64

import pytest
from django.urls import reverse

from notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status
STATUS_PATH = "/api/v1/notifications/twilio/status/"


def test_request_fields_and_provider_id(twilio_standin, enqueue_committed, sms_callback_url):
    message = enqueue_committed(context={"code": "246810", "minutes": 5})
    [request] = twilio_standin.message_requests
    assert request.authorized
    assert request.path == f"/2010-04-01/Accounts/{twilio_standin.account_sid}/Messages.json"
    assert request.form["To"] == "+8613800138000"
    assert request.form["From"] == "+15005550006"
    assert request.form["Body"] == "【贵州政务服务】您的验证码为246810，5分钟内有效，请勿泄露。"
    assert request.form["StatusCallback"] == sms_callback_url
    assert "MessagingServiceSid" not in request.form
    auth = base64.b64decode(request.headers["Authorization"][6:]).decode()
    assert auth == f"{twilio_standin.account_sid}:{twilio_standin.auth_token}"

    assert message.status == Status.SENT
    assert message.provider_message_id in twilio_standin.messages
    assert message.provider_message_id.startswith("SM")
    assert message.delivery_status == OutboxMessage.DeliveryStatus.QUEUED


def test_messaging_service_instead_of_from_number(settings, twilio_standin, enqueue_committed):
    settings.TWILIO_FROM_NUMBER = ""
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "0" * 32
    settings.TWILIO_STATUS_CALLBACK_URL = ""
    message = enqueue_committed()
    [request] = twilio_standin.message_requests
    assert request.form["MessagingServiceSid"] == "MG" + "0" * 32
    assert "From" not in request.form
    assert "StatusCallback" not in request.form
    assert message.status == Status.SENT


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, 21211, Status.DEAD),  # invalid 'To' number: permanent
        (400, 21610, Status.DEAD),  # recipient unsubscribed: permanent
        (404, 20404, Status.DEAD),
        (429, 20429, Status.FAILED),  # rate limited: retry
        (500, 20500, Status.FAILED),
        (503, 20503, Status.FAILED),
    ],
)
def test_error_mapping(twilio_standin, enqueue_committed, status, code, expected):
    twilio_standin.fail_next(1, status=status, code=code)
    message = enqueue_committed()
    assert message.status == expected
    assert str(code) in message.last_error
    assert message.provider_message_id == ""


def test_wrong_credentials_are_retried_not_given_up(settings, twilio_standin, enqueue_committed):
    settings.TWILIO_AUTH_TOKEN = "wrong"
    message = enqueue_committed()
    assert message.status == Status.FAILED
    assert "401" in message.last_error
    assert not twilio_standin.message_requests[0].authorized


def test_unreachable_provider_is_retried(settings, twilio_standin, enqueue_committed):
    twilio_standin.stop()  # nothing listens on that port any more
    message = enqueue_committed()
    assert message.status == Status.FAILED
    assert "连接 Twilio 失败" in message.last_error


def test_missing_configuration_is_retried(settings, twilio_standin, enqueue_committed):
    settings.TWILIO_ACCOUNT_SID = ""
    message = enqueue_committed()
    assert message.status == Status.FAILED
    assert "TWILIO_ACCOUNT_SID" in message.last_error
    assert twilio_standin.requests == []


# --- status callback -----------------------------------------------------------------------------


@pytest.fixture
def sent_message(twilio_standin, enqueue_committed):
    return enqueue_committed(template="case_received", context={"case_number": "N1", "item_name": "X"})


# The callback tests route only our own URLs, so they do not depend on other apps' routes.
callback_urls = pytest.mark.urls("notifications.urls")


def post_callback(client, url, form, signature):
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature} if signature is not None else {}
    return client.post(STATUS_PATH, form, **headers)


def test_url_name():
    assert reverse("notifications:twilio-status") == STATUS_PATH


@callback_urls
def test_signed_callback_records_delivery(client, twilio_standin, sent_message, sms_callback_url):
    form, signature = twilio_standin.signed_callback(sms_callback_url, sent_message.provider_message_id, "delivered")
    response = post_callback(client, sms_callback_url, form, signature)
    assert response.status_code == 204
    sent_message.refresh_from_db()
    assert sent_message.delivery_status == OutboxMessage.DeliveryStatus.DELIVERED
    assert sent_message.delivered_at is not None
    assert sent_message.status == Status.SENT


@callback_urls
def test_undelivered_records_the_error_code(client, twilio_standin, sent_message, sms_callback_url):
    form, signature = twilio_standin.signed_callback(
        sms_callback_url, sent_message.provider_message_id, "undelivered", ErrorCode="30003"
    )
    assert post_callback(client, sms_callback_url, form, signature).status_code == 204
    sent_message.refresh_from_db()
    assert (sent_message.delivery_status, sent_message.delivery_error_code) == ("undelivered", "30003")
    assert sent_message.delivered_at is None


@callback_urls
@pytest.mark.parametrize(
    "tamper",
    ["forged", "missing", "other_token", "changed_status", "other_url"],
)
def test_bad_signature_is_refused_and_changes_nothing(client, twilio_standin, sent_message, sms_callback_url, tamper):
    from twilio.request_validator import RequestValidator

    form, signature = twilio_standin.signed_callback(sms_callback_url, sent_message.provider_message_id, "delivered")
    if tamper == "forged":
        signature = "bm90IGEgc2lnbmF0dXJl"
    elif tamper == "missing":
        signature = None
    elif tamper == "other_token":
        signature = RequestValidator("someone-else").compute_signature(sms_callback_url, form)
    elif tamper == "changed_status":
        form["MessageStatus"] = "failed"
    elif tamper == "other_url":
        signature = RequestValidator(twilio_standin.auth_token).compute_signature("https://evil.example/cb", form)
    response = post_callback(client, sms_callback_url, form, signature)
    assert response.status_code == 403
    sent_message.refresh_from_db()
    assert sent_message.delivery_status == OutboxMessage.DeliveryStatus.QUEUED
    assert sent_message.delivered_at is None


@callback_urls
def test_signature_is_checked_against_the_public_url_not_the_request(client, twilio_standin, sent_message):
    # Signed for the URL Django sees (http://testserver/...), not the configured public one.
    local_url = "http://testserver" + STATUS_PATH
    form, signature = twilio_standin.signed_callback(local_url, sent_message.provider_message_id, "delivered")
    assert post_callback(client, local_url, form, signature).status_code == 403


@callback_urls
def test_request_url_is_used_when_no_public_url_is_set(settings, client, twilio_standin, sent_message):
    settings.TWILIO_STATUS_CALLBACK_URL = ""
    local_url = "http://testserver" + STATUS_PATH
    form, signature = twilio_standin.signed_callback(local_url, sent_message.provider_message_id, "delivered")
    assert post_callback(client, local_url, form, signature).status_code == 204
    sent_message.refresh_from_db()
    assert sent_message.delivery_status == "delivered"


@callback_urls
def test_unknown_sid_is_acknowledged_and_changes_nothing(client, twilio_standin, sent_message, sms_callback_url):
    form, signature = twilio_standin.signed_callback(sms_callback_url, "SM" + "f" * 32, "delivered")
    assert post_callback(client, sms_callback_url, form, signature).status_code == 204
    assert not OutboxMessage.objects.filter(delivery_status="delivered").exists()


@callback_urls
def test_callbacks_out_of_order_never_move_backwards(client, twilio_standin, sent_message, sms_callback_url):
    sid = sent_message.provider_message_id
    for status in ["sent", "delivered", "sent", "queued", "undelivered"]:
        form, signature = twilio_standin.signed_callback(sms_callback_url, sid, status)
        assert post_callback(client, sms_callback_url, form, signature).status_code == 204
    sent_message.refresh_from_db()
    assert sent_message.delivery_status == "delivered"


@callback_urls
def test_untracked_status_changes_nothing(client, twilio_standin, sent_message, sms_callback_url):
    form, signature = twilio_standin.signed_callback(sms_callback_url, sent_message.provider_message_id, "read")
    assert post_callback(client, sms_callback_url, form, signature).status_code == 204
    sent_message.refresh_from_db()
    assert sent_message.delivery_status == "queued"


@callback_urls
def test_get_is_not_allowed(client):
    assert client.get(STATUS_PATH).status_code == 405


@callback_urls
def test_no_auth_token_configured_refuses_everything(settings, client, twilio_standin, sent_message, sms_callback_url):
    form, signature = twilio_standin.signed_callback(sms_callback_url, sent_message.provider_message_id, "delivered")
    settings.TWILIO_AUTH_TOKEN = ""
    assert post_callback(client, sms_callback_url, form, signature).status_code == 403
