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

from accounts.models import Role, User
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
