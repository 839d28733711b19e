"""The two evaluators of "may this user see this case" agree: ``visible_q`` (SQL, every list) and
``may_see`` (on one loaded row, the case lookup every API call makes).

A world walked through the three modes — drafts, a correction, sub-cases and their joint parent,
a window case received for a citizen, cases in two cities — and for every user of every role
(clerks at different halls, approvers of different departments, city and province supervisors,
a hall supervisor, two citizens, an admin, a deactivated clerk, nobody), each case is asked both
ways. Any disagreement is a hole (shown by one, hidden by the other).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from accounts.models import Role, User
from halls.scope import scope_for
from tests.workflows.test_representation import Walk, _proxy_body
from workflows import selectors
from workflows.models import Case

pytestmark = pytest.mark.django_db


def _world_of_cases(wf: Any) -> None:
    w = Walk(wf)
    verify = {"id_checked": True, "originals_sighted": ["id_card"]}
    n = w.create("zy_clerk", _proxy_body(wf))  # stays received
    w.create("gy_clerk", {**_proxy_body(wf), "receiving_hall": "H-GY"})  # another city's hall
    n = w.create("zy_clerk", _proxy_body(wf))
    w.upload(n, "zy_clerk")
    w.step(n, "verify", "zy_clerk", verify)
    w.step(n, "transfer", "zy_clerk")
    w.step(n, "request_correction", "yy_approver", {"items": [{"requirement": "form", "reason": "缺签字"}]})
    body = {"item": "GZ-0001", "mode": "online", "jurisdiction": "520103", "delivery": {"method": "electronic"}}
    w.create("citizen", body)  # a draft: the applicant's alone
    n = w.create("citizen", body)
    w.upload(n, "citizen")
    w.step(n, "submit", "citizen")
    n = w.create("zy_clerk", _proxy_body(wf, "GZ-0003", "joint"))
    w.upload(n, "zy_clerk")
    w.step(n, "verify", "zy_clerk", verify)
    w.step(n, "transfer", "zy_clerk")
    w.step(f"{n}-01", "accept", "yy_approver")


def test_may_see_agrees_with_visible_q_for_every_user_and_case(wf):
    _world_of_cases(wf)
    admin = User.objects.create_user(username="admin_all", password="x" * 12, role=Role.ADMIN)
    gone = User.objects.create_user(username="gone_clerk", password="x" * 12, role=Role.WINDOW_CLERK)
    gone.is_active = False
    gone.save()
    users: list[Any] = [*wf.users.values(), admin, gone, None, AnonymousUser()]
    numbers = list(Case.objects.values_list("number", flat=True))
    assert len(numbers) >= 8 and Case.objects.filter(state="draft").exists()
    assert Case.objects.filter(parent__isnull=False).exists()
    seen = hidden = 0
    for u in users:
        user = User.objects.get(pk=u.pk) if isinstance(u, User) else u  # a fresh object: its own scope
        visible = set(selectors.visible_cases(user).values_list("number", flat=True)) if user is not None else set()
        for number in numbers:
            found = selectors.case_for(user, number)
            assert (found is not None) == (number in visible), (getattr(u, "username", u), number)
            if found is not None:
                seen += 1
            else:
                hidden += 1
    # Both answers occur for many pairs (the world is not trivially all-visible or all-hidden).
    assert seen > 30 and hidden > 30


def test_case_for_refuses_what_is_not_a_case_number(wf):
    case = wf.receive()
    clerk = wf.users["zy_clerk"]
    assert selectors.case_for(clerk, case.number) is not None
    for bogus in ("", case.number + " ", case.number.lower() + "x", None, 123):
        assert selectors.case_for(clerk, bogus) is None  # type: ignore[arg-type]


def test_each_rule_says_the_same_in_sql_and_in_python(wf):
    """Every rule of ``selectors.RULES`` on its own: its filter (drafts excluded unless the rule
    reaches them, as ``visible_q`` has it) selects exactly the cases its ``matches`` accepts."""
    _world_of_cases(wf)
    # Received at one hall, collected at another: only the delivery hall's clerks see it by hall.
    Walk(wf).create("zy_clerk", {**_proxy_body(wf), "delivery": {"method": "pickup", "hall": "H-GY"}})
    admin = User.objects.create_user(username="admin_all", password="x" * 12, role=Role.ADMIN)
    cases = list(Case.objects.select_related("receiving_hall", "authority").order_by("pk"))
    asked = set()
    for u in [*wf.users.values(), admin]:
        user = User.objects.get(pk=u.pk)
        scope = scope_for(user)
        for rule in selectors.RULES:
            if not rule.applies(scope):
                continue
            asked.add(rule.name)
            q = rule.q(user, scope) if rule.reaches_drafts else rule.q(user, scope) & ~Q(state="draft")
            by_sql = set(Case.objects.filter(q).values_list("pk", flat=True))
            by_row = {
                c.pk for c in cases if (rule.reaches_drafts or c.state != "draft") and rule.matches(user, scope, c)
            }
            assert by_sql == by_row, (user.username, rule.name)
    assert asked == {rule.name for rule in selectors.RULES}  # the world reaches every rule
