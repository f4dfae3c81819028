"""Admission control for session starts and re-dispatches: what keeps one client, or everyone together,
from starting more paid sessions than the deployment allows.

TokenBucket     per-client rate (`ROLECALL_WEB_SESSIONS_PER_MINUTE` after a burst of
                `ROLECALL_WEB_SESSION_BURST`), and per-room re-dispatch spacing (a bucket of one)
SessionCount    the global cap `ROLECALL_WEB_MAX_SESSIONS` on pending plus active sessions, counted in
                LiveKit (shared by every web replica) plus this process's starts in flight
KeyedLocks      one asyncio.Lock per key (a room), dropped when nobody holds or waits for it

Every refusal is `429` with `Retry-After`: `rate_limited` (a client or a room) or `too_many_sessions`.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from livekit import api

from worker.metrics import ADMISSION_REFUSALS
from worker.web.errors import ApiError

MAX_TRACKED_KEYS = 10_000
"""Clients a bucket remembers; the least recently seen is forgotten first (it starts full again)."""
COUNT_CACHE_S = 2.0
"""How long one LiveKit room listing serves the global cap, so a burst does not hammer LiveKit."""
PENDING_MARGIN_S = 15.0
"""Added to the worker's participant timeout: dispatch and job start before the wait for the user."""
ROOM_PREFIX = "rolecall-"


def too_many(code: str, message: str, retry_after_s: float) -> ApiError:
    """A 429 with `Retry-After` (whole seconds, at least 1) in the header and the body."""
    seconds = max(1, math.ceil(retry_after_s))
    ADMISSION_REFUSALS.labels(code=code).inc()
    return ApiError(
        429,
        code,
        f"{message}; try again in {seconds} s",
        headers={"Retry-After": str(seconds)},
        retry_after_s=seconds,
    )


class TokenBucket:
    """`burst` tokens per key, refilled at `per_second`; a request takes one."""

    def __init__(self, per_second: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self.burst = burst
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def wait_s(self, key: str) -> float:
        """Seconds until `key` has a token (0 when it has one now); takes nothing."""
        tokens = self._tokens(key, self._clock())
        return 0.0 if tokens >= 1 else (1 - tokens) / self.per_second

    def take(self, key: str) -> float:
        """Take a token for `key`: 0 when taken, else the seconds until one is available."""
        now = self._clock()
        tokens = self._tokens(key, now)
        if tokens < 1:
            return (1 - tokens) / self.per_second
        self._store(key, tokens - 1, now)
        return 0.0

    def give_back(self, key: str) -> None:
        """Return a token taken for a request that was refused later on (up to the burst)."""
        now = self._clock()
        self._store(key, min(self.burst, self._tokens(key, now) + 1), now)

    def _tokens(self, key: str, now: float) -> float:
        found = self._buckets.get(key)
        if found is None:
            return float(self.burst)
        tokens, at = found
        return min(float(self.burst), tokens + (now - at) * self.per_second)

    def _store(self, key: str, tokens: float, now: float) -> None:
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > MAX_TRACKED_KEYS:
            self._buckets.popitem(last=False)


class SessionCount:
    """Pending plus active RoleCall sessions: rooms named `rolecall-...` in LiveKit that have
    participants, or that were created within `pending_window_s` (a dispatched agent may still be
    waiting for its user), plus the starts this process has made since the listing."""

    def __init__(
        self, lk: api.LiveKitAPI, pending_window_s: float, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.lk = lk
        self.pending_window_s = pending_window_s
        self._clock = clock
        self._lock = asyncio.Lock()
        self._listed_at = -math.inf
        self._listed = 0
        self._oldest_pending: float | None = None
        self._started: list[float] = []  # this process's starts since the last listing began
        self._in_flight = 0

    @asynccontextmanager
    async def slot(self, limit: int) -> AsyncIterator[Callable[[], None]]:
        """Hold one of `limit` session places while a session is started (429 when none is free);
        the caller calls the yielded function once the session exists."""
        async with self._lock:  # one listing at a time; the others use it
            if self._clock() - self._listed_at > COUNT_CACHE_S:
                await self._list()
        # From here to the reservation nothing awaits, so concurrent starts see each other.
        if self._listed + len(self._started) + self._in_flight >= limit:
            raise too_many(
                "too_many_sessions",
                f"the service is at its limit of {limit} sessions at once",
                self._retry_after(),
            )
        self._in_flight += 1
        created = False

        def done() -> None:
            nonlocal created
            created = True

        try:
            yield done
        finally:
            self._in_flight -= 1
            if created:
                self._started.append(self._clock())

    async def _list(self) -> None:
        began = self._clock()
        rooms = (await self.lk.room.list_rooms(api.ListRoomsRequest())).rooms
        now = self._clock()
        pending = [
            created
            for r in rooms
            if r.name.startswith(ROOM_PREFIX)
            and not r.num_participants  # LiveKit updates this count a few seconds late
            and now - (created := _created_s(r)) < self.pending_window_s
        ]
        active = [r for r in rooms if r.name.startswith(ROOM_PREFIX) and r.num_participants]
        self._listed = len(pending) + len(active)
        self._oldest_pending = min(pending, default=None)
        self._listed_at = now
        # A start that finished after the listing began may be missing from it: keep counting it.
        self._started = [t for t in self._started if t >= began]

    def _retry_after(self) -> float:
        if self._oldest_pending is None:
            return 30.0  # all of them are in use: nothing frees up on a known schedule
        return min(30.0, self._oldest_pending + self.pending_window_s - self._clock())


def _created_s(room: api.Room) -> float:
    return room.creation_time_ms / 1000 if room.creation_time_ms else float(room.creation_time)


class KeyedLocks:
    """One `asyncio.Lock` per key, for single-flight work on one room in this process."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
