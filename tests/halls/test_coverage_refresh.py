"""The map's coverage layer follows the halls: computed when halls change (after commit, debounced)
and with the distance an operator chose last."""

from __future__ import annotations

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db


def share(adcode: str) -> float | None:
    from halls.models import CountyCoverage

    row = CountyCoverage.objects.filter(region_id=adcode).first()
    return None if row is None else row.covered_share


def test_a_new_hall_fills_its_county_after_commit(guizhou_regions, hall_factory, django_capture_on_commit_callbacks):
    from halls.models import CountyCoverage

    county = guizhou_regions["520102"]  # 南明区
    assert not CountyCoverage.objects.exists()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        hall_factory("520102", lat=county.lat, lon=county.lon, type="comprehensive")
    assert callbacks  # scheduled for after the commit, not run inside the transaction
    assert not CountyCoverage.objects.exists()
    for callback in callbacks:
        callback()
    assert share("520102") and share("520102") > 0.3  # type: ignore[operator]
    assert share("520122") == 0.0  # 息烽县: no point there
    assert CountyCoverage.objects.count() == 88


def test_closing_the_hall_empties_its_county_again(guizhou_regions, hall_factory, django_capture_on_commit_callbacks):
    county = guizhou_regions["520102"]
    with django_capture_on_commit_callbacks(execute=True):
        hall = hall_factory("520102", lat=county.lat, lon=county.lon, type="station")
    assert share("520102") and share("520102") > 0.3  # type: ignore[operator]
    with django_capture_on_commit_callbacks(execute=True):
        hall.is_active = False
        hall.save(update_fields=["is_active"])
    assert share("520102") == 0.0


def test_refresh_keeps_the_operators_distance(guizhou_regions, hall_factory, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    from halls.models import CountyCoverage

    county = guizhou_regions["520102"]
    hall_factory("520102", lat=county.lat, lon=county.lon, type="comprehensive")
    call_command("coverage", "--distance-km", "2", "--json")
    small = share("520102")
    with django_capture_on_commit_callbacks(execute=True):
        hall_factory("520102", lat=county.lat + 0.05, lon=county.lon, type="station")
    assert set(CountyCoverage.objects.values_list("distance_m", flat=True)) == {2000}
    assert share("520102") > small  # type: ignore[operator]


def test_a_burst_of_changes_waits_for_the_pending_refresh(
    guizhou_regions, hall_factory, django_capture_on_commit_callbacks
):
    from halls import coverage
    from halls.models import CountyCoverage

    county = guizhou_regions["520102"]
    cache.set(coverage.PENDING_KEY, 1, 60)  # a refresh is already scheduled
    with django_capture_on_commit_callbacks(execute=True):
        hall_factory("520102", lat=county.lat, lon=county.lon, type="comprehensive")
    assert not CountyCoverage.objects.exists()  # absorbed: the scheduled run will see this hall
    coverage.refresh()
    assert share("520102") > 0.3  # type: ignore[operator]
    assert cache.get(coverage.PENDING_KEY) is None


def test_refresh_without_boundaries_is_a_clear_skip(db):
    from halls import coverage

    assert "import_regions" in coverage.refresh()["skipped"]
