"""PostgreSQL: concurrent raters never double-rate a case and never lose a tally count."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from ratings import actions
from ratings.actions import RatingConflict, RatingInput
from ratings.models import HallTally, Rating, RegionDayTally

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _parallel(fns):
    errors: list[BaseException] = []
    results: list[object] = []
    barrier = threading.Barrier(len(fns))

    def run(fn):
        try:
            barrier.wait()
            results.append(fn())
        except BaseException as exc:  # collected and asserted by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results, errors


def test_two_tabs_rate_the_same_case_once(wf, deliver):
    case = deliver()
    citizen = wf.users["citizen"]
    results, errors = _parallel(
        [lambda lv=lv: actions.rate_case(case=case, actor=citizen, data=RatingInput(level=lv)) for lv in (1, 5)]
    )
    assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], RatingConflict)
    assert Rating.objects.filter(case=case).count() == 1
    assert (
        sum(RegionDayTally.objects.values_list("c1", flat=True))
        + sum(RegionDayTally.objects.values_list("c5", flat=True))
        == 1
    )


def test_concurrent_pad_ratings_keep_every_count(wf, make_ticket):
    raws = [actions.open_pad(ticket=make_ticket(), actor=wf.users["zy_clerk"])[1] for _ in range(8)]
    results, errors = _parallel(
        [lambda raw=raw: actions.rate_visit(token=raw, data=RatingInput(level=4)) for raw in raws]
    )
    assert errors == [] and len(results) == 8
    assert HallTally.objects.get(hall_id=wf.halls["zunyi"].pk).c4 == 8
