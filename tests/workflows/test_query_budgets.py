"""Query budgets (Zulip's assert_database_query_count style): every call of the public API a case's
lifecycle makes, and the pages users read most, run a pinned number of queries.

A change that adds a query to one of them fails here and has to say so by changing the pin. The
calls authenticate as production does (token for the API, session for the pages), and the tests
are transactional so the count is what a server sees: no test-case SAVEPOINTs around the actions'
own transactions. The counts differ between PostgreSQL (a transition's UPDATE, event and ledger
entry are one statement) and SQLite. Speed itself is measured in bench/bench_api.py, never here.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.fixtures.workflows import PDF, PNG, proxy_body
from workdays import calendar
from workflows.actions.clocks import ACCEPTANCE_DAYS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _tasks_go_to_a_broker(settings):
    """As in production, a request publishes its after-commit work (SMS, result rendering, live
    boards) to the broker for the worker; eager Celery would run that work inside the request and
    count the worker's queries as the call's. A memory broker: published, never consumed here."""
    from config.celery import app

    saved = (app.conf.task_always_eager, app.conf.broker_url)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://"
    app._pool = None  # the producer pool is bound to the broker it was built for
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url = saved
        app._pool = None
        app.amqp._producer_pool = None


# The issue's target for a case detail: at most 8 queries (the transitions' pins are below).
DETAIL_MAX = 8
TRANSITION_MAX = 10


class Budget:
    """Runs calls, records the queries each one made, compares everything at once at the end."""

    def __init__(self, wf: Any) -> None:
        self.wf = wf
        self.counts: dict[str, int] = {}
        self.api: dict[str, APIClient] = {}

    def client(self, who: str) -> APIClient:
        if who not in self.api:
            c = APIClient()
            token, _created = Token.objects.get_or_create(user=self.wf.users[who])
            c.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
            self.api[who] = c
        return self.api[who]

    def call(self, label: str, who: str, method: str, url: str, body: Any = None, fmt: str = "json") -> Any:
        c = self.client(who)
        with CaptureQueriesContext(connection) as ctx:
            r = c.post(url, body or {}, format=fmt) if method == "post" else c.get(url)
        assert r.status_code < 300, (label, r.status_code, r.content[:500])
        self.counts[label] = len(ctx.captured_queries)
        if os.environ.get("SHOW_QUERIES"):
            print("=====", label)
            for q in ctx.captured_queries:
                print("   ", q["sql"][:200])
        return r

    def page(self, label: str, who: str, url: str) -> Any:
        c = Client()
        c.force_login(self.wf.users[who])
        with CaptureQueriesContext(connection) as ctx:
            r = c.get(url)
        assert r.status_code == 200, (label, r.status_code)
        self.counts[label] = len(ctx.captured_queries)
        return r

    def step(self, number: str, name: str, who: str, body: dict[str, Any] | None = None, label: str = "") -> Any:
        return self.call(label or name, who, "post", f"/api/v1/cases/{number}/transitions/{name}/", body or {}).json()

    def upload(self, number: str, who: str, code: str, label: str) -> None:
        content, name = (PDF, "f.pdf") if code == "form" else (PNG, "f.png")
        self.call(
            label,
            who,
            "post",
            f"/api/v1/cases/{number}/materials/",
            {"requirement": code, "file": SimpleUploadedFile(name, content)},
            "multipart",
        )

    def check(self, expected: dict[str, dict[str, int]]) -> None:
        vendor = connection.vendor if connection.vendor in ("postgresql", "sqlite") else "postgresql"
        if os.environ.get("BUDGET_OUT"):  # the figures, when a pin has to move
            with open(os.environ["BUDGET_OUT"], "a", encoding="utf-8") as out:
                out.write(json.dumps({"vendor": vendor, "counts": self.counts}, ensure_ascii=False) + "\n")
        pinned = {label: by_vendor[vendor] for label, by_vendor in expected.items()}
        assert self.counts == pinned


def _proxy_body(wf: Any, item: str = "GZ-0001", mode: str = "proxy") -> dict[str, Any]:
    return proxy_body(wf.applicant_id, item, mode)


def test_proxy_lifecycle_through_the_api(wf):
    b = Budget(wf)
    # A case received earlier today: the day's number sequence exists (the steady state).
    b.call("warm-up", "zy_clerk", "post", "/api/v1/cases/", _proxy_body(wf))
    n = b.call("create (receive)", "zy_clerk", "post", "/api/v1/cases/", _proxy_body(wf)).json()["number"]
    b.upload(n, "zy_clerk", "id_card", "upload")
    b.upload(n, "zy_clerk", "form", "upload 2")
    b.step(n, "verify", "zy_clerk", {"id_checked": True, "originals_sighted": ["id_card"]})
    b.step(n, "transfer", "zy_clerk")
    b.call("detail (approver)", "yy_approver", "get", f"/api/v1/cases/{n}/")
    b.step(n, "accept", "yy_approver")
    b.step(n, "start_review", "yy_approver")
    assert b.step(n, "approve", "yy_approver")["state"] == "print_queued"
    b.step(n, "print", "zy_printer")
    assert b.step(n, "hand_over", "zy_clerk", {"collector_id_number": wf.applicant_id})["state"] == "delivered"
    b.call("detail (clerk)", "zy_clerk", "get", f"/api/v1/cases/{n}/")
    b.call("detail (supervisor)", "sup_province", "get", f"/api/v1/cases/{n}/")
    b.call("detail (applicant)", "citizen", "get", f"/api/v1/cases/{n}/")
    b.call("list (clerk)", "zy_clerk", "get", "/api/v1/cases/")
    b.call("list (approver)", "yy_approver", "get", "/api/v1/cases/")
    b.call("list (applicant)", "citizen", "get", "/api/v1/cases/")
    del b.counts["warm-up"]
    b.check(PROXY)


PROXY: dict[str, dict[str, int]] = {
    # PostgreSQL, each needed: the token; the item, the jurisdiction, the clerk's posts (hall and
    # window rules), the competent department (routing) and the applicant's verified account
    # (linking the case); BEGIN; the day's number with the case (one statement:
    # engine._insert_numbered); its event with its ledger entry and the case_received SMS (one
    # statement: notifications.actions.staged_sms); COMMIT. The response reads nothing (a new
    # case: its one event as written, no material).
    "create (receive)": {"postgresql": 10, "sqlite": 15},
    "upload": {"postgresql": 9, "sqlite": 11},
    "upload 2": {"postgresql": 9, "sqlite": 11},
    "verify": {"postgresql": 10, "sqlite": 14},
    "transfer": {"postgresql": 9, "sqlite": 13},
    "detail (approver)": {"postgresql": 4, "sqlite": 4},
    # Token, case; BEGIN; the UPDATE with its event, entry and the case_accepted SMS (one
    # statement: the SMS is written only if the guarded UPDATE wins); COMMIT; materials, timeline.
    "accept": {"postgresql": 7, "sqlite": 12},
    "start_review": {"postgresql": 7, "sqlite": 11},
    # Token, case; BEGIN; the approve UPDATE with its event, entry and the case_decided SMS; the
    # system chain in one statement (engine.system_chain): its UPDATE (→ print_queued) as guard of
    # the issue and queue_print events with their entries and the result row; COMMIT; the
    # response's materials and timeline (its results are the ones written).
    "approve": {"postgresql": 8, "sqlite": 22},
    # Token, case, the clerk's posts (issuing-window rule); BEGIN; the case's results (check,
    # blank stock and response: read once), each with whether the hall keeps blank stock of its
    # type (licences' result_annotations: numbered sheet or plain paper); the UPDATE with event,
    # entry and the ready-for-pickup SMS; COMMIT; the response's materials and timeline.
    "print": {"postgresql": 9, "sqlite": 14},
    "hand_over": {"postgresql": 9, "sqlite": 13},
    "detail (clerk)": {"postgresql": 6, "sqlite": 6},
    "detail (supervisor)": {"postgresql": 5, "sqlite": 5},
    "detail (applicant)": {"postgresql": 5, "sqlite": 5},
    "list (clerk)": {"postgresql": 4, "sqlite": 4},
    "list (approver)": {"postgresql": 3, "sqlite": 3},
    "list (applicant)": {"postgresql": 3, "sqlite": 3},
}


def test_online_lifecycle_through_the_api(wf):
    b = Budget(wf)
    body = {"item": "GZ-0001", "mode": "online", "jurisdiction": "520103", "delivery": {"method": "electronic"}}
    b.call("warm-up", "citizen", "post", "/api/v1/cases/", body)
    n = b.call("create (online)", "citizen", "post", "/api/v1/cases/", body).json()["number"]
    b.upload(n, "citizen", "id_card", "upload")
    b.upload(n, "citizen", "form", "upload 2")
    b.step(n, "submit", "citizen")
    b.call("detail (approver)", "yy_approver", "get", f"/api/v1/cases/{n}/")
    b.step(n, "accept", "yy_approver")
    b.step(n, "start_review", "yy_approver")
    assert b.step(n, "approve", "yy_approver")["state"] == "delivered"
    b.call("detail (applicant)", "citizen", "get", f"/api/v1/cases/{n}/")
    del b.counts["warm-up"]
    b.check(ONLINE)


ONLINE: dict[str, dict[str, int]] = {
    "create (online)": {"postgresql": 8, "sqlite": 12},
    "upload": {"postgresql": 8, "sqlite": 10},
    "upload 2": {"postgresql": 8, "sqlite": 10},
    "submit": {"postgresql": 9, "sqlite": 14},
    "detail (approver)": {"postgresql": 4, "sqlite": 4},
    "accept": {"postgresql": 8, "sqlite": 13},
    "start_review": {"postgresql": 7, "sqlite": 11},
    # As the proxy approve (the chain goes to delivered instead of print_queued).
    "approve": {"postgresql": 8, "sqlite": 22},
    "detail (applicant)": {"postgresql": 5, "sqlite": 5},
}


def test_joint_lifecycle_through_the_api(wf):
    b = Budget(wf)
    b.call("warm-up", "zy_clerk", "post", "/api/v1/cases/", _proxy_body(wf, "GZ-0003", "joint"))
    n = b.call("create (joint)", "zy_clerk", "post", "/api/v1/cases/", _proxy_body(wf, "GZ-0003", "joint"))
    n = n.json()["number"]
    b.upload(n, "zy_clerk", "id_card", "upload")
    b.upload(n, "zy_clerk", "form", "upload 2")
    b.step(n, "verify", "zy_clerk", {"id_checked": True, "originals_sighted": ["id_card"]})
    # The steady state: a server process reads the holiday calendar (the acceptance clocks'
    # working days) once per workdays.calendar.OVERRIDE_TTL, not once per transfer.
    calendar.deadline(timezone.now(), ACCEPTANCE_DAYS)
    children = b.step(n, "transfer", "zy_clerk")["children"]
    assert [c["authority"] for c in children] == ["520103-market", "520103-health"]
    b.call("detail (parent, clerk)", "zy_clerk", "get", f"/api/v1/cases/{n}/")
    b.call("detail (parent, approver)", "yy_approver", "get", f"/api/v1/cases/{n}/")
    b.call("detail (sub-case)", "yy_approver", "get", f"/api/v1/cases/{n}-01/")
    for index, who in (("01", "yy_approver"), ("02", "yy_health")):
        b.step(f"{n}-{index}", "accept", who, label=f"accept {index}")
        b.step(f"{n}-{index}", "start_review", who, label=f"start_review {index}")
        b.step(f"{n}-{index}", "approve", who, label=f"approve {index}")
    b.step(n, "print", "zy_printer")
    assert b.step(n, "hand_over", "zy_clerk", {"collector_id_number": wf.applicant_id})["state"] == "delivered"
    del b.counts["warm-up"]
    b.check(JOINT)


JOINT: dict[str, dict[str, int]] = {
    # As the proxy create: every part routed in one query (services.selectors.joint_departments).
    "create (joint)": {"postgresql": 10, "sqlite": 15},
    "upload": {"postgresql": 9, "sqlite": 11},
    "upload 2": {"postgresql": 9, "sqlite": 11},
    "verify": {"postgresql": 10, "sqlite": 14},
    # Token, case, clerk's posts; BEGIN; the UPDATE with event and entry; the parts' routing
    # again (one query: departments may have changed since intake); every sub-case with its
    # create event and entry (one statement); COMMIT; the response's materials and timeline (its
    # sub-cases are the ones just written).
    "transfer": {"postgresql": 10, "sqlite": 23},
    "detail (parent, clerk)": {"postgresql": 6, "sqlite": 6},
    # One EXISTS more than other details: the approver sees the parent through a sub-case they
    # decide (workflows.selectors.may_see), asked only for joint parents outside their authority.
    "detail (parent, approver)": {"postgresql": 6, "sqlite": 6},
    "detail (sub-case)": {"postgresql": 4, "sqlite": 4},
    "accept 01": {"postgresql": 9, "sqlite": 14},
    "start_review 01": {"postgresql": 9, "sqlite": 13},
    "approve 01": {"postgresql": 9, "sqlite": 13},
    # Token, case; BEGIN; the UPDATE with event, entry and the case_accepted SMS; the parent locked
    # with item and delivery hall, and its sub-cases (2); the parent follows with two steps of its
    # own, accept and start_review, as one system chain (one UPDATE with both events and entries:
    # engine.system_chain); COMMIT; the response's materials (the parent's) and timeline.
    "accept 02": {"postgresql": 10, "sqlite": 23},
    "start_review 02": {"postgresql": 9, "sqlite": 13},
    # Token, case; BEGIN; the UPDATE with event and entry; the parent locked with item and delivery
    # hall, and its sub-cases (2); the parent's approve → issue → queue_print as one system chain
    # (one UPDATE with the three events and entries, the results and the case_decided SMS);
    # COMMIT; the response's materials and timeline.
    "approve 02": {"postgresql": 10, "sqlite": 28},
    # As the proxy print (both results read with their blank-stock answer), and the response's
    # sub-cases.
    "print": {"postgresql": 10, "sqlite": 15},
    "hand_over": {"postgresql": 10, "sqlite": 14},
}


def test_workbench_pages_and_my_cases(wf, drive):
    b = Budget(wf)
    for _i in range(3):
        drive(wf.receive(), "transferred")
    case = drive(wf.receive(), "under_review")
    online = drive(wf.online(), "submitted")
    b.page("clerk workbench", "zy_clerk", "/workbench/clerk/")
    b.page("approver workbench", "yy_approver", "/workbench/approver/")
    b.page("case list page (supervisor)", "sup_province", "/workbench/cases/")
    b.page("case page (approver)", "yy_approver", f"/workbench/cases/{case.number}/")
    b.page("我的办件", "citizen", "/my/cases/")
    b.page("我的办件 case", "citizen", f"/my/cases/{online.number}/")
    b.check(PAGES)


PAGES: dict[str, dict[str, int]] = {
    "clerk workbench": {"postgresql": 11, "sqlite": 11},
    "approver workbench": {"postgresql": 13, "sqlite": 13},
    "case list page (supervisor)": {"postgresql": 3, "sqlite": 3},
    "case page (approver)": {"postgresql": 14, "sqlite": 14},
    "我的办件": {"postgresql": 4, "sqlite": 4},
    "我的办件 case": {"postgresql": 10, "sqlite": 10},
}


def test_detail_budgets_meet_the_target():
    """The pinned case-detail reads stay within the issue's target (at most 8 queries)."""
    for table in (PROXY, ONLINE, JOINT):
        for label, by_vendor in table.items():
            if label.startswith("detail"):
                assert max(by_vendor.values()) <= DETAIL_MAX, label


def test_transition_budgets_meet_the_target():
    """Every pinned call of a lifecycle that is not a read (intake, uploads, transitions) stays
    within the issue's target on PostgreSQL, the production database: at most 10 queries."""
    for table in (PROXY, ONLINE, JOINT):
        for label, by_vendor in table.items():
            if not label.startswith(("detail", "list")):
                assert by_vendor["postgresql"] <= TRANSITION_MAX, label
