"""core.baked: a baked query gives what its queryset gives, and refuses the shapes it cannot bind."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Exists, OuterRef
from django.test.utils import CaptureQueriesContext

from core.baked import BakedQuery
from halls import scope
from halls.models import StaffPost, Window

pytestmark = pytest.mark.django_db


def _posts(user_id: int):  # type: ignore[no-untyped-def]
    return (
        StaffPost.objects.filter(user_id=user_id)
        .filter(is_active=True)
        .select_related("window", "hall")
        .annotate(hall_issues=Exists(Window.objects.filter(hall_id=OuterRef("hall_id"), issuing=True)))
    )


def _same(baked: list[StaffPost], orm: list[StaffPost]) -> None:
    assert [(p.pk, p.__dict__.get("hall_issues")) for p in baked] == [
        (p.pk, p.__dict__.get("hall_issues")) for p in orm
    ]
    for b, o in zip(baked, orm, strict=True):
        assert {k: v for k, v in b.__dict__.items() if k != "_state"} == {
            k: v for k, v in o.__dict__.items() if k != "_state"
        }
        fields = [k for k in o.hall.__dict__ if k != "_state"]
        assert [b.hall.__dict__[k] for k in fields] == [getattr(o.hall, k) for k in fields]
        assert (b.window and b.window.number) == (o.window and o.window.number)
        assert (b._state.db, b._state.adding) == (o._state.db, o._state.adding)


def test_annotations_and_constant_parameters_are_baked(wf):
    """The EXISTS subquery's own ``1`` is a parameter: a constant, told apart by a probe compilation."""
    baked = BakedQuery(_posts)
    users = [wf.users[name] for name in ("zy_clerk", "zy_printer", "hall_sup_zy", "yy_approver", "gy_clerk")]
    for _round in range(2):
        for user in users:
            _same(baked(user.pk), list(_posts(user.pk)))
    assert baked._baked is not None and baked._baked.annotations == (("hall_issues", 5),)
    assert baked._baked.slots is not None and None in baked._baked.slots and baked._baked.constants == (1,)
    with CaptureQueriesContext(connection) as ctx:
        baked(wf.users["zy_clerk"].pk)
    assert len(ctx.captured_queries) == 1


def test_a_parameter_derived_from_a_value_is_never_baked(wf):
    derived = BakedQuery(lambda code: Window.objects.filter(hall__code=code.upper()))
    hall = wf.halls["zunyi"].code
    for _round in range(2):
        assert [w.pk for w in derived(hall.lower())] == [w.pk for w in Window.objects.filter(hall__code=hall)]
    assert derived._baked is None and derived._unbakeable


def test_a_value_that_changes_the_sql_is_never_baked(wf):
    by_window = BakedQuery(lambda window_id: StaffPost.objects.filter(window_id=window_id))
    assert [p.pk for p in by_window(None)] == [p.pk for p in StaffPost.objects.filter(window__isnull=True)]
    assert by_window._baked is None


def test_active_posts_are_what_the_users_posts_manager_gives(wf):
    for user in wf.users.values():
        user.__dict__.pop("_workflow_posts", None)
        posts = scope.active_posts(user)
        orm = list(
            user.posts.filter(is_active=True)
            .select_related("window", "hall")
            .annotate(hall_issues=Exists(Window.objects.filter(hall_id=OuterRef("hall_id"), issuing=True)))
        )
        _same(posts, orm)
        assert all(p.user is user and p.hall.has_issuing_window == p.hall_issues for p in posts)
        assert scope.active_posts(user) is posts  # once per user object
