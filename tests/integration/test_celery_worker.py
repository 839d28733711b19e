"""A real Celery worker process, a real broker (Redis) and PostgreSQL: an SMS accepted in a
transaction is delivered by the worker after commit — and never when the transaction rolls back."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection, transaction

from tests.conftest import skip_or_fail, using_postgres

pytestmark = [pytest.mark.broker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def celery_worker_process(redis_url, settings, tmp_path):
    """Start `celery -A config worker` against this test's database and a private queue."""
    if not using_postgres():
        skip_or_fail("the worker shares the test database, which needs PostgreSQL")
    # A private broker (its own Redis database, emptied first) rather than a private queue name:
    # Celery caches the default queue and router once a process has published anything, so a queue
    # name set here would be ignored after earlier tests in the same worker process.
    import redis

    from config.celery import app

    broker = redis_url.rsplit("/", 1)[0] + "/13"
    redis.Redis.from_url(broker).flushdb()
    queue = app.amqp.default_queue.name
    db = connection.settings_dict
    db_url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    sms_dir = tmp_path / "sms"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": db_url,
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "SMS_BACKEND": "file",
        "SMS_FILE_DIR": str(sms_dir),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "-l",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    # Send this process's tasks to the worker's private broker.
    old = (app.conf.task_always_eager, app.conf.broker_url)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    app.conf.broker_url = broker
    app._pool = None  # the producer pools were built for the old broker
    app.amqp._producer_pool = None
    try:
        yield sms_dir
    finally:
        app.conf.task_always_eager, app.conf.broker_url = old
        app._pool = None
        app.amqp._producer_pool = None
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        if out:
            sys.stdout.write(out.decode(errors="replace")[-4000:])


def _wait(predicate, timeout=120.0):  # the worker boots Django first; generous on a loaded box
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_worker_delivers_committed_messages_only(celery_worker_process):
    from notifications.actions import enqueue_sms
    from notifications.models import OutboxMessage

    sms_dir = celery_worker_process
    with transaction.atomic():
        msg = enqueue_sms(to="13985012345", template="otp_code", context={"code": "123456", "minutes": 5})
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_sms(to="13985012346", template="otp_code", context={"code": "654321", "minutes": 5})
        raise RuntimeError("the cause failed")

    assert _wait(lambda: OutboxMessage.objects.get(pk=msg.pk).status == "sent"), "worker did not send the message"
    files = list(sms_dir.glob("*.sms"))
    assert len(files) == 1 and "123456" in files[0].read_text(encoding="utf-8")
    assert OutboxMessage.objects.count() == 1
