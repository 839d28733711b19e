"""The demo history: realistic, reproducible, idempotent, and consistent with the tallies."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_load_ratings_demo(demo_halls):
    from demo.ratings import load_ratings
    from demo.staff import load_staff
    from ratings import selectors, tally
    from ratings.models import HallTally, Rating, Rectification, RegionDayTally

    load_staff()
    first = load_ratings(scale=0.2)
    assert first["ratings"] > 500 and 0 < first["bad"] < first["ratings"] * 0.15
    # Mostly satisfied; bad ones in several rectification states; one appeal upheld.
    total = selectors.public_figures()["total"]
    assert total["satisfaction_rate"] > 0.9
    states = set(Rectification.objects.values_list("state", flat=True))
    assert {"open", "closed", "replied"} <= states
    assert Rating.objects.filter(counted=False).count() == 1
    # The tallies equal a rebuild from the ratings.
    before = sorted(RegionDayTally.objects.values_list("day", "county_code", "c1", "c2", "c3", "c4", "c5"))
    halls = sorted(HallTally.objects.values_list("hall_id", "c1", "c2", "c3", "c4", "c5"))
    tally.rebuild()
    assert sorted(RegionDayTally.objects.values_list("day", "county_code", "c1", "c2", "c3", "c4", "c5")) == before
    assert sorted(HallTally.objects.values_list("hall_id", "c1", "c2", "c3", "c4", "c5")) == halls
    # Idempotent.
    assert "skipped" in load_ratings(scale=0.2)
    assert Rating.objects.count() == first["ratings"]
