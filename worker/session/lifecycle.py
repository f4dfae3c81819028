"""One session's life: the single place that decides, and records, why it ends.

Everything that can end a session goes through `Lifecycle.end` (or `claim`, for an end that first says
goodbye): the model's `end_session`, a limit of the role, the user gone for the grace period, the model
connection lost for good, livekit-agents closing the session, the worker shutting the job down. The first
reason wins; later ones are ignored. The lifecycle also owns what runs beside the conversation: the grace
timer while the user is away, the moment of the user's last words (for the idle limit), and every
background task (cancelled together when the session is over).

`due_limit` is the limit check itself, a pure function of the time: `tests/session/test_lifecycle.py`
runs it and the lifecycle against a fake clock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from worker._livekit_compat import WORKER_SHUTDOWN_REASON
from worker.protocol import EndReason
from worker.roles import Limits

logger = logging.getLogger("rolecall.session")

Clock = Callable[[], float]

_CLOSE_REASONS: dict[str, EndReason] = {
    "error": "model_error",
    "participant_disconnected": "user_left",
    "job_shutdown": "worker_shutdown",
}
"""livekit-agents' `CloseReason` values, for a session it closed before RoleCall decided why."""


class Stoppable(Protocol):
    """What the lifecycle stops: livekit-agents' `AgentSession`."""

    def shutdown(self, *, drain: bool = True) -> None: ...


@dataclass(frozen=True)
class LimitHit:
    """A limit the session has reached: which, and the page event's detail (`limit_s` or `limit_usd`)."""

    reason: EndReason
    detail: dict[str, float]
    say: str
    """Why the agent says goodbye (for the model)."""


def due_limit(
    limits: Limits, *, now: float, started: float, last_activity: float, cost_usd: float | None
) -> LimitHit | None:
    """The first of the role's limits the session has reached, if any (duration, then idle, then budget)."""
    if now - started >= limits.max_duration_s:
        return LimitHit("max_duration", {"limit_s": limits.max_duration_s}, "The session time is up.")
    if limits.idle_timeout_s is not None and now - last_activity >= limits.idle_timeout_s:
        return LimitHit(
            "idle", {"limit_s": limits.idle_timeout_s}, "The user has been silent for a long time."
        )
    if limits.max_cost_usd is not None and cost_usd is not None and cost_usd >= limits.max_cost_usd:
        return LimitHit("budget", {"limit_usd": limits.max_cost_usd}, "This session has used its budget.")
    return None


class Lifecycle:
    """Why and when one session ends, and what runs until then."""

    def __init__(self, *, log_extra: dict[str, Any] | None = None, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self.started = clock()
        self.last_activity = self.started
        """`clock()` of the user's last words (speech or text), for the idle limit."""
        self.log_extra = log_extra or {}
        self._reason: EndReason | None = None
        self._ended = asyncio.Event()
        self._session: Stoppable | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._grace: asyncio.TimerHandle | None = None
        self.user_was_away = False
        """Whether the user has left at least once (their return then needs the page's tools again)."""

    # --- the end ------------------------------------------------------------------------------------

    def bind(self, session: Stoppable) -> None:
        """The session to stop when the end is decided."""
        self._session = session

    @property
    def reason(self) -> EndReason | None:
        """Why the session ends, once decided."""
        return self._reason

    @property
    def ending(self) -> bool:
        """Whether the end is decided (tools and limits stop acting then)."""
        return self._reason is not None

    def claim(self, reason: EndReason) -> bool:
        """Decide the end without stopping yet (the caller says goodbye, then calls `stop`).

        Returns False when another reason came first (the caller then does nothing more)."""
        if self._reason is not None:
            return False
        self._reason = reason
        self._ended.set()
        logger.info("session ending: %s", reason, extra=self.log_extra)
        return True

    def end(self, reason: EndReason, *, drain: bool = False) -> bool:
        """Decide the end and stop the session now (`drain`: let the agent finish speaking first)."""
        if not self.claim(reason):
            return False
        self.stop(drain=drain)
        return True

    def stop(self, *, drain: bool) -> None:
        """Stop the session (after `claim`)."""
        if self._session is not None:
            self._session.shutdown(drain=drain)

    def closed(self, close_reason: str) -> EndReason:
        """livekit-agents closed the session: the reason, decided here if nothing decided it before."""
        self.claim(_CLOSE_REASONS.get(close_reason, "session_closed"))
        assert self._reason is not None
        return self._reason

    def final_reason(self, job_reason: str) -> EndReason:
        """The reason the report gives, once the job shuts down for `job_reason` (livekit-agents').

        The worker shutting the job down (drain limit reached, exit) is what ended a session still
        running then, whatever closed the AgentSession on the way."""
        if job_reason == WORKER_SHUTDOWN_REASON:
            return "worker_shutdown"
        return self._reason or "session_closed"

    async def ended(self) -> EndReason:
        """Wait until the end is decided."""
        await self._ended.wait()
        assert self._reason is not None
        return self._reason

    # --- the user -----------------------------------------------------------------------------------

    def activity(self) -> None:
        """The user just spoke or typed."""
        self.last_activity = self.clock()

    def user_left(self, grace_s: float) -> None:
        """The user left: end the session with `user_left` unless they are back within `grace_s`."""
        self.user_was_away = True
        if self._grace is None and not self.ending:
            self._grace = asyncio.get_running_loop().call_later(grace_s, self._gone, grace_s)

    def user_returned(self) -> bool:
        """The user is back: cancel the grace timer. True when they had been away (not the first join)."""
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        return self.user_was_away

    def _gone(self, grace_s: float) -> None:
        self._grace = None
        if not self.ending:
            logger.info("user did not come back within %.0f s; ending", grace_s, extra=self.log_extra)
        self.end("user_left", drain=False)

    # --- what runs beside the conversation -----------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str | None = None) -> asyncio.Task[Any]:
        """Run `coro` for as long as the session lives (cancelled by `close`)."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        """The session is over: cancel the grace timer and every background task, and wait for them."""
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
