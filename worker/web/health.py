"""`GET /api/health`: ready when a role can be served and LiveKit answers, cached for a few seconds.

The cache keeps a load balancer polling every second from turning into a LiveKit API call per poll.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from livekit import api

from worker.roles import RoleRegistry
from worker.web.sessions import LIVEKIT_ERRORS

CACHE_S = 5.0
LIVEKIT_TIMEOUT_S = 2.0


class HealthCheck:
    """`check()` returns None when healthy, else the reason."""

    def __init__(
        self,
        registry: RoleRegistry,
        lk: api.LiveKitAPI,
        *,
        cache_s: float = CACHE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = registry
        self.lk = lk
        self.cache_s = cache_s
        self._clock = clock
        self._cached: tuple[float, str | None] | None = None
        self._lock = asyncio.Lock()

    async def check(self) -> str | None:
        async with self._lock:  # concurrent polls share one probe
            now = self._clock()
            if self._cached is not None and now - self._cached[0] < self.cache_s:
                return self._cached[1]
            reason = await self._probe()
            self._cached = (self._clock(), reason)
            return reason

    async def _probe(self) -> str | None:
        roles = await asyncio.to_thread(self.registry.summaries)
        if not roles:
            return "no valid role in the roles directory (run `python -m worker roles check`)"
        try:
            await asyncio.wait_for(
                self.lk.room.list_rooms(api.ListRoomsRequest(names=["rolecall-health"])), LIVEKIT_TIMEOUT_S
            )
        except LIVEKIT_ERRORS:
            return "the LiveKit server is not reachable"
        return None
