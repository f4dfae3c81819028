"""Admission building blocks (pure): the token bucket, 429 errors, per-key locks."""

from __future__ import annotations

import asyncio

import pytest

from worker.web import admission
from worker.web.admission import KeyedLocks, TokenBucket, too_many

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_the_burst_then_refills_at_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(per_second=6 / 60, burst=3, clock=clock)
    assert [bucket.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take("a") == pytest.approx(10.0)  # one token every 10 s at 6 a minute
    clock.now += 4
    assert bucket.take("a") == pytest.approx(6.0)
    clock.now += 6
    assert bucket.take("a") == 0.0
    assert bucket.take("a") == pytest.approx(10.0)
    # Another key has its own bucket.
    assert bucket.take("b") == 0.0


def test_a_bucket_never_holds_more_than_the_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(per_second=1.0, burst=2, clock=clock)
    bucket.take("a")
    clock.now += 3600
    assert [bucket.take("a") for _ in range(3)][:2] == [0.0, 0.0]
    assert bucket.wait_s("a") == pytest.approx(1.0)


def test_wait_takes_nothing_and_give_back_refunds_one() -> None:
    clock = Clock()
    bucket = TokenBucket(per_second=1 / 60, burst=1, clock=clock)
    assert bucket.wait_s("a") == 0.0 and bucket.wait_s("a") == 0.0
    assert bucket.take("a") == 0.0
    assert bucket.wait_s("a") == pytest.approx(60.0)
    bucket.give_back("a")
    assert bucket.take("a") == 0.0
    bucket.give_back("a")
    bucket.give_back("a")  # never above the burst
    assert bucket.take("a") == 0.0 and bucket.take("a") > 0


def test_a_bucket_forgets_the_least_recent_keys_beyond_its_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admission, "MAX_TRACKED_KEYS", 3)
    bucket = TokenBucket(per_second=1 / 60, burst=1, clock=Clock())
    for key in "abcd":
        bucket.take(key)
    assert bucket.wait_s("a") == 0.0  # forgotten: full again
    assert bucket.wait_s("d") > 0


def test_too_many_is_a_429_with_whole_seconds() -> None:
    err = too_many("rate_limited", "too many sessions started from here", 6.2)
    assert (err.status, err.code) == (429, "rate_limited")
    assert err.headers == {"Retry-After": "7"}
    assert err.extra == {"retry_after_s": 7}
    assert err.message == "too many sessions started from here; try again in 7 s"
    assert too_many("x", "y", 0.01).headers == {"Retry-After": "1"}


async def test_keyed_locks_serialise_one_key_and_are_dropped_when_unused() -> None:
    locks = KeyedLocks()
    inside: list[str] = []
    overlaps = 0

    async def work(key: str) -> None:
        nonlocal overlaps
        async with locks.hold(key):
            overlaps += key in inside
            inside.append(key)
            await asyncio.sleep(0.01)
            inside.remove(key)

    await asyncio.gather(*(work("room-a") for _ in range(5)), work("room-b"))
    assert overlaps == 0
    assert len(locks) == 0


async def test_keyed_locks_let_other_keys_run_meanwhile() -> None:
    locks = KeyedLocks()
    b_done = asyncio.Event()

    async def hold_a() -> None:
        async with locks.hold("a"):
            await asyncio.wait_for(b_done.wait(), 5)  # would deadlock if "b" waited on "a"

    async def run_b() -> None:
        async with locks.hold("b"):
            b_done.set()

    await asyncio.gather(hold_a(), run_b())
    assert len(locks) == 0
