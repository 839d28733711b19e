"""GET /healthz: database, cache and broker reachability (503 naming what is down)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def _check_db() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_cache() -> str:
    cache.set("healthz", "1", 5)
    return "ok" if cache.get("healthz") == "1" else "down"


def _check_broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "ok"  # eager mode: tasks run in-process, there is no broker to reach
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    result: dict[str, str] = {}
    for name, check in (("db", _check_db), ("cache", _check_cache), ("broker", _check_broker)):
        try:
            result[name] = check()
        except Exception as exc:  # any failure means "down"; the reason goes to the log, not the client
            logger.warning("healthz: %s down: %s", name, exc)
            result[name] = "down"
    status = 200 if all(v == "ok" for v in result.values()) else 503
    return JsonResponse(result, status=status)
