"""GET /metrics (Prometheus) and LOG_FORMAT=json."""

from __future__ import annotations

import json
import logging
import re

import pytest

pytestmark = pytest.mark.django_db


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one series in the exposition text, or None when it is absent."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        m = re.fullmatch(rf"{re.escape(name)}(?:\{{(.*)\}})? (\S+)", line)
        if m and ",".join(sorted((m.group(1) or "").split(","))) == want:
            return float(m.group(2))
    return None


def test_requests_are_counted_by_pattern_not_path(client):
    before = sample(client.get("/metrics").content.decode(), "tongban_http_requests_total",
                    method="GET", route="/api/v1/halls/<hallcode:code>/", status="404") or 0  # fmt: skip
    client.get("/api/v1/halls/NOPE-1/")
    client.get("/api/v1/halls/NOPE-2/")
    text = client.get("/metrics").content.decode()
    after = sample(
        text, "tongban_http_requests_total", method="GET", route="/api/v1/halls/<hallcode:code>/", status="404"
    )
    assert after == before + 2
    assert "NOPE-1" not in text  # one series per endpoint, whatever the code
    assert (
        'tongban_http_request_duration_seconds_bucket{le="0.5",method="GET",route="/api/v1/halls/<hallcode:code>/"}'
        in text
    )
    assert 'route="/metrics"' not in text  # the scraper is not traffic


def test_state_gauges_read_the_database(client, django_capture_on_commit_callbacks, settings):
    from django.db import transaction

    from notifications.actions import enqueue_sms
    from notifications.models import OutboxMessage

    settings.CELERY_TASK_ALWAYS_EAGER = True
    with transaction.atomic():
        enqueue_sms(to="13800138000", template="otp_code", context={"code": "123456", "minutes": 5})
    text = client.get("/metrics").content.decode()
    assert sample(text, "tongban_outbox_messages", status="pending") == 1
    assert sample(text, "tongban_outbox_messages", status="sent") == 0
    assert sample(text, "tongban_outbox_oldest_due_seconds") is not None
    assert sample(text, "tongban_up", component="db") == 1
    assert "tongban_cases_open" in text and "tongban_queue_tickets" in text
    OutboxMessage.objects.all().delete()


def test_a_broker_that_is_down_is_a_zero_not_a_failed_scrape(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from config.celery import app

    old = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        resp = client.get("/metrics")
    finally:
        app.conf.broker_url = old
    assert resp.status_code == 200
    assert sample(resp.content.decode(), "tongban_up", component="broker") == 0


def test_token_is_required_when_configured(client, settings):
    settings.METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200


def test_json_log_lines_carry_extra_fields_and_tracebacks():
    from config.logging import JsonFormatter

    record = logging.LogRecord("tongban.x", logging.WARNING, __file__, 1, "case %s stuck", ("N-1",), None)
    record.case = "N-1"
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "case N-1 stuck" and line["level"] == "WARNING" and line["case"] == "N-1"
    assert line["logger"] == "tongban.x" and line["pid"] > 0 and line["at"].endswith("+00:00")
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert "ValueError: boom" in json.loads(JsonFormatter().format(record))["exc"]
