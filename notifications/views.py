"""Twilio's delivery reports (status callbacks)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from notifications.actions import record_delivery_status

logger = logging.getLogger(__name__)


@csrf_exempt  # Twilio cannot send a CSRF token; the request signature authenticates it instead.
@require_POST
def twilio_status_callback(request: HttpRequest) -> HttpResponse:
    """POST /api/v1/notifications/twilio/status/ — MessageSid, MessageStatus[, ErrorCode].

    The X-Twilio-Signature is checked against the exact public URL Twilio was given
    (TWILIO_STATUS_CALLBACK_URL): behind a proxy, the URL Django rebuilds can differ in scheme,
    host or port, and the signature would never match. Only when that setting is empty is the
    request's own URL used. A missing or wrong signature → 403, nothing changes.

    An unknown MessageSid answers 200 and changes nothing: it can be a message of another system
    sharing the account, or a report racing our own write of the sid; an error status would only
    make Twilio log failures (it does not re-deliver status callbacks), so 200 is the honest answer.
    """
    from twilio.request_validator import RequestValidator

    token: str = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return HttpResponseForbidden("缺少签名")
    url: str = settings.TWILIO_STATUS_CALLBACK_URL or request.build_absolute_uri()
    params = {key: request.POST.get(key, "") for key in request.POST}
    if not RequestValidator(token).validate(url, params, signature):
        logger.warning(
            "Rejected a Twilio status callback with a bad signature from %s", request.META.get("REMOTE_ADDR")
        )
        return HttpResponseForbidden("签名无效")
    changed = record_delivery_status(
        provider_message_id=params.get("MessageSid") or params.get("SmsSid", ""),
        status=params.get("MessageStatus") or params.get("SmsStatus", ""),
        error_code=params.get("ErrorCode", ""),
    )
    if not changed:
        logger.info(
            "Twilio status callback changed nothing: %s %s", params.get("MessageSid"), params.get("MessageStatus")
        )
    return HttpResponse(status=204)
