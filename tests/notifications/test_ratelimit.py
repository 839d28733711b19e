"""The shared token bucket."""

from __future__ import annotations

import os
import threading

import pytest

from notifications.ratelimit import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def bucket(clock):
    b = TokenBucket(rate=2, capacity=2, key="test:bucket", clock=clock)
    b.reset()
    yield b
    b.reset()


def test_burst_then_the_rate(bucket, clock):
    assert bucket.acquire().now
    assert bucket.acquire().now
    third = bucket.acquire(reserve=False)
    assert not third.now
    assert third.wait == pytest.approx(0.5)
    clock.t += 0.5
    assert bucket.acquire().now
    assert not bucket.acquire(reserve=False).now


def test_reservations_spread_a_burst_evenly(bucket):
    for _ in range(2):
        assert bucket.acquire().now
    waits = [bucket.acquire().wait for _ in range(4)]
    # Each deferred message gets its own slot, half a second apart.
    assert waits == pytest.approx([0.5, 1.0, 1.5, 2.0])


def test_reservations_are_capped(bucket):
    for _ in range(2):
        bucket.acquire()
    for _ in range(4):
        bucket.acquire(max_reserve=1.0)
    late = bucket.acquire(max_reserve=1.0)
    assert not late.reserved
    assert late.wait == pytest.approx(1.0)


def test_without_reserving_no_token_is_taken(bucket, clock):
    bucket.acquire()
    bucket.acquire()
    for _ in range(10):
        bucket.acquire(reserve=False)
    clock.t += 0.5
    assert bucket.acquire().now


def test_idle_bucket_refills_only_to_capacity(bucket, clock):
    clock.t += 3600
    assert [bucket.acquire(reserve=False).now for _ in range(3)] == [True, True, False]


def test_zero_rate_is_unlimited():
    b = TokenBucket(rate=0, capacity=1, key="test:unlimited")
    assert all(b.acquire().now for _ in range(100))


def test_threads_share_one_bucket():
    # Real time, many threads: exactly `capacity` get a token straight away.
    b = TokenBucket(rate=0.001, capacity=5, key="test:threads")
    b.reset()
    results: list[bool] = []
    lock = threading.Lock()

    def worker():
        for _ in range(5):
            r = b.acquire(reserve=False).now
            with lock:
                results.append(r)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 5
    b.reset()


REDIS_FOR_TESTS = os.environ.get("TONGBAN_TEST_REDIS_URL", "")


@pytest.mark.skipif(not REDIS_FOR_TESTS, reason="set TONGBAN_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15)")
def test_works_on_redis(settings):
    # Overriding CACHES makes Django drop its cache connections; `cache` follows.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_FOR_TESTS}
    }
    b = TokenBucket(rate=0.001, capacity=3, key="test:redis-bucket")
    b.reset()
    assert [b.acquire(reserve=False).now for _ in range(4)] == [True, True, True, False]
    assert b.acquire(max_reserve=10_000).reserved
    b.reset()


@pytest.mark.parametrize(("rate", "capacity", "max_reserve"), [(2, 2, 5.0), (1, 1, 5.0), (10, 10, 60.0), (0.5, 3, 7.0)])
def test_bookable_counts_exactly_what_acquire_would_give_or_book(clock, rate, capacity, max_reserve):
    b = TokenBucket(rate=rate, capacity=capacity, key="test:bookable", clock=clock)
    b.reset()
    try:
        for step in range(3):  # a fresh bucket, then part-way through a backlog
            expected = b.bookable(max_reserve=max_reserve)
            taken = 0
            while (got := b.acquire(max_reserve=max_reserve)).now or got.reserved:
                taken += 1
            assert taken == expected, step
            assert b.bookable(max_reserve=max_reserve) == 0
            clock.t += 1.7 * (step + 1)
    finally:
        b.reset()


def test_bookable_is_unbounded_without_a_rate():
    assert TokenBucket(rate=0, capacity=1, key="test:none").bookable() > 10**6
