"""A token bucket in the Django cache, shared by every worker process (Redis in production).

The bucket holds up to `capacity` tokens and refills at `rate` tokens a second. Taking a token when
the bucket is empty can *book* a future one instead: the balance goes negative and the caller learns
when its slot comes, so a burst of 1,000 messages is spread over the next 100 seconds in one pass
instead of every deferred message waking up at once and competing again.

The cache offers no compare-and-set, so the read-modify-write runs under a short lock taken with
`cache.add` (atomic set-if-absent in Redis, memcached and locmem). The lock expires by itself if its
holder dies; the critical section is a get and a set.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache

DEFAULT_KEY = "notifications:sms-rate"
_LOCK_TIMEOUT = 2  # seconds; far longer than the critical section
_LOCK_WAIT = 1.0  # seconds to wait for the lock before deferring instead


@dataclass(frozen=True)
class Acquired:
    """wait == 0: send now. wait > 0: come back after `wait` seconds; `reserved` says whether a
    token is already booked for then (the caller must not take another one)."""

    wait: float
    reserved: bool

    @property
    def now(self) -> bool:
        return self.wait <= 0


class TokenBucket:
    def __init__(
        self,
        *,
        rate: float,
        capacity: int,
        key: str = DEFAULT_KEY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # Wall-clock time (not monotonic): the state is shared between processes and machines.
        self.rate = rate
        self.capacity = max(1, capacity)
        self.key = key
        self.clock = clock

    @property
    def unlimited(self) -> bool:
        return self.rate <= 0

    def acquire(self, *, reserve: bool = True, max_reserve: float = 60.0) -> Acquired:
        """Take one token. With `reserve`, book a future token when none is left (up to
        `max_reserve` seconds ahead); without it, only report how long until one is free."""
        if self.unlimited:
            return Acquired(0.0, reserved=False)
        lock_key = f"{self.key}:lock"
        owner = uuid.uuid4().hex
        deadline = time.monotonic() + _LOCK_WAIT
        while not cache.add(lock_key, owner, timeout=_LOCK_TIMEOUT):
            if time.monotonic() > deadline:
                # Never exceed the rate because the lock is contended: try again a second later.
                return Acquired(1.0, reserved=False)
            time.sleep(0.002)
        try:
            now = self.clock()
            state = cache.get(self.key)
            if state is None:
                tokens, stamp = float(self.capacity), now
            else:
                tokens, stamp = float(state[0]), float(state[1])
            tokens = min(float(self.capacity), tokens + max(0.0, now - stamp) * self.rate)
            if tokens >= 1.0:
                result = Acquired(0.0, reserved=False)
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
                if reserve and wait <= max_reserve:
                    tokens -= 1.0
                    result = Acquired(wait, reserved=True)
                else:
                    result = Acquired(min(wait, max_reserve), reserved=False)
            # Expire once the bucket would be full again anyway, so idle keys don't linger.
            ttl = int((self.capacity - tokens) / self.rate) + 2
            cache.set(self.key, (tokens, now), timeout=ttl)
            return result
        finally:
            if cache.get(lock_key) == owner:
                cache.delete(lock_key)

    def bookable(self, *, max_reserve: float = 60.0) -> int:
        """How many tokens ``acquire`` could still give or book (up to ``max_reserve`` seconds
        ahead) right now: a read without the lock, so an estimate for pacing callers, never a
        promise (``acquire`` stays the one that takes). Large when unlimited."""
        if self.unlimited:
            return 2**31
        state = cache.get(self.key)
        now = self.clock()
        if state is None:
            tokens = float(self.capacity)
        else:
            tokens = min(float(self.capacity), float(state[0]) + max(0.0, now - float(state[1])) * self.rate)
        # acquire() books while (1 - tokens) / rate <= max_reserve, one token per call.
        floor_balance = 1.0 - self.rate * max_reserve
        return max(0, math.floor(tokens - floor_balance) + 1) if tokens >= floor_balance else 0

    def reset(self) -> None:
        cache.delete_many([self.key, f"{self.key}:lock"])


def sms_bucket(clock: Callable[[], float] = time.time) -> TokenBucket:
    """The provider-wide SMS bucket, configured by SMS_RATE_PER_SECOND (and SMS_RATE_BURST)."""
    from notifications import conf

    return TokenBucket(rate=conf.rate_per_second(), capacity=conf.rate_burst(), clock=clock)


def reset_sms_bucket() -> None:
    """Forget the shared SMS bucket's state (tests; after changing the rate)."""
    TokenBucket(rate=1, capacity=1).reset()
