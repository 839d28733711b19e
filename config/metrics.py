"""Prometheus metrics: GET /metrics (text exposition format, prometheus-client).

Two kinds of series:
- per process, counted by `MetricsMiddleware`: requests by method, URL pattern and status, and their
  latency histogram. Several HTTP workers behind a proxy each count their own; set
  PROMETHEUS_MULTIPROC_DIR (an empty directory shared by the workers of one machine, wiped at
  deploy) and any worker's /metrics answers for all of them (prometheus-client's multiprocess mode).
- read from the shared state at scrape time (the same whichever worker answers): people waiting in
  hall queues today, the SMS outbox by status and the age of its oldest due message, open cases by
  SLA colour (reds are overdue), the Celery broker's queue length, and whether each dependency is up.

METRICS_TOKEN, when set, must come as `Authorization: Bearer <token>`; without it the endpoint is
open, so the proxy must not route /metrics from outside (README, production section).
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

logger = logging.getLogger(__name__)

# Buckets around the 500 ms objective of the replay bench (bench/replay.py).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "tongban_http_requests_total",
    "HTTP requests answered, by method, URL pattern and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "tongban_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and URL pattern",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)


def _route(request: HttpRequest) -> str:
    # The URL pattern, not the path: one series per endpoint, whatever case number or hall code.
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return "/" + str(match.route or match.view_name).lstrip("^")


class MetricsMiddleware:
    """Counts and times every request (sync or async stack alike)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def _observe(self, request: HttpRequest, status: int, started: float) -> None:
        route = _route(request)
        if route == "/metrics":
            return  # the scraper's own requests are not traffic
        LATENCY.labels(request.method or "", route).observe(time.perf_counter() - started)
        REQUESTS.labels(request.method or "", route, str(status)).inc()

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        started = time.perf_counter()
        response = self.get_response(request)
        self._observe(request, response.status_code, started)
        return response

    async def __acall__(self, request: HttpRequest) -> Any:
        started = time.perf_counter()
        response = await self.get_response(request)
        self._observe(request, response.status_code, started)
        return response


class StateCollector(Collector):
    """Gauges read from the database and the broker at scrape time. A dependency that is down gives
    `tongban_up{component=...} 0` and no figures from it, never a failed scrape."""

    def describe(self) -> list[GaugeMetricFamily]:
        # Without it, registering the collector calls collect() to learn its names: database and
        # broker queries at import time (in whichever request first imports this module).
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("tongban_up", "Whether a dependency answered (1) or not (0)", labels=["component"])
        db_ok = self._safe(self._db_gauges)
        up.add_metric(["db"], 1.0 if db_ok is not None else 0.0)
        yield from db_ok or []
        broker = self._safe(self._broker_gauges)
        up.add_metric(["broker"], 1.0 if broker is not None else 0.0)
        yield from broker or []
        yield up

    @staticmethod
    def _safe(fn: Callable[[], list[GaugeMetricFamily]]) -> list[GaugeMetricFamily] | None:
        try:
            return fn()
        except Exception as exc:  # a scrape must still answer when the database or broker is down
            logger.warning("metrics: %s failed: %s", fn.__name__, exc)
            return None

    @staticmethod
    def _db_gauges() -> list[GaugeMetricFamily]:
        from django.db.models import Count, Min
        from django.utils import timezone

        from halls.models import QueueTicket
        from halls.queue import service_day
        from notifications.models import OutboxMessage
        from workflows.models import TERMINAL_STATES, Case

        out: list[GaugeMetricFamily] = []
        queue = GaugeMetricFamily(
            "tongban_queue_tickets", "Today's queue tickets in all halls, by status", labels=["status"]
        )
        for row in (
            QueueTicket.objects.filter(service_date=service_day()).values("status").annotate(n=Count("id")).order_by()
        ):
            queue.add_metric([row["status"]], row["n"])
        out.append(queue)

        outbox = GaugeMetricFamily("tongban_outbox_messages", "SMS outbox rows by status", labels=["status"])
        counts = dict(OutboxMessage.objects.values_list("status").annotate(n=Count("id")).order_by())
        for status in OutboxMessage.Status:
            outbox.add_metric([status.value], counts.get(status.value, 0))
        out.append(outbox)
        oldest = OutboxMessage.objects.filter(status__in=OutboxMessage.DUE_STATUSES).aggregate(t=Min("next_attempt_at"))
        age = GaugeMetricFamily(
            "tongban_outbox_oldest_due_seconds", "Age of the oldest SMS waiting to be sent (0: backlog empty)"
        )
        age.add_metric([], max(0.0, (timezone.now() - oldest["t"]).total_seconds()) if oldest["t"] else 0.0)
        out.append(age)

        sla = GaugeMetricFamily("tongban_cases_open", "Open cases by SLA colour (red: overdue)", labels=["sla"])
        for row in (
            Case.objects.exclude(state__in=TERMINAL_STATES).values("sla_status").annotate(n=Count("id")).order_by()
        ):
            sla.add_metric([row["sla_status"] or "none"], row["n"])
        out.append(sla)
        return out

    @staticmethod
    def _broker_gauges() -> list[GaugeMetricFamily]:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            return []
        from kombu.exceptions import ChannelError

        from config.celery import app

        depth = GaugeMetricFamily("tongban_celery_queue_length", "Tasks waiting in the broker", labels=["queue"])
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            with conn.channel() as channel:
                name = app.conf.task_default_queue
                try:
                    _queue, messages, _consumers = channel.queue_declare(name, passive=True)
                except ChannelError:
                    messages = 0  # Redis drops an empty list's key: no queue means nothing waiting
                depth.add_metric([name], messages)
        return [depth]


REGISTRY.register(StateCollector())


def _registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # every worker's counters and histograms
    registry.register(StateCollector())
    return registry


def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return HttpResponse(
                "metrics need the bearer token (METRICS_TOKEN)\n", status=401, content_type="text/plain"
            )
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
