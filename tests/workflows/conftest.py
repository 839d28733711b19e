import pytest


@pytest.fixture(autouse=True)
def _fresh_holiday_cache():
    # Test rollbacks remove HolidayOverride rows without signals: start and end with an empty cache.
    from workdays.calendar import invalidate_overrides

    invalidate_overrides()
    yield
    invalidate_overrides()
