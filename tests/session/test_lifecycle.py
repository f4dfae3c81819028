"""`Lifecycle` and `due_limit` against a fake clock: who decides the end, and which limit comes due."""

from __future__ import annotations

import asyncio

import pytest

from worker._livekit_compat import WORKER_SHUTDOWN_REASON
from worker.roles import Limits
from worker.session.lifecycle import Lifecycle, due_limit

pytestmark = pytest.mark.unit


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeSession:
    def __init__(self) -> None:
        self.shutdowns: list[bool] = []

    def shutdown(self, *, drain: bool = True) -> None:
        self.shutdowns.append(drain)


LIMITS = Limits(max_duration_s=600, idle_timeout_s=60, max_cost_usd=0.5)


def test_no_limit_is_due_before_its_time() -> None:
    assert due_limit(LIMITS, now=100.0, started=50.0, last_activity=99.0, cost_usd=0.1) is None


def test_each_limit_comes_due_with_the_page_event_detail() -> None:
    duration = due_limit(LIMITS, now=650.0, started=50.0, last_activity=649.0, cost_usd=0.0)
    assert duration is not None and duration.reason == "max_duration" and duration.detail == {"limit_s": 600}
    idle = due_limit(LIMITS, now=200.0, started=50.0, last_activity=140.0, cost_usd=0.0)
    assert idle is not None and idle.reason == "idle" and idle.detail == {"limit_s": 60}
    budget = due_limit(LIMITS, now=100.0, started=50.0, last_activity=99.0, cost_usd=0.5)
    assert budget is not None and budget.reason == "budget" and budget.detail == {"limit_usd": 0.5}


def test_duration_comes_before_idle_and_idle_before_budget() -> None:
    hit = due_limit(LIMITS, now=700.0, started=50.0, last_activity=0.0, cost_usd=9.0)
    assert hit is not None and hit.reason == "max_duration"
    hit = due_limit(LIMITS, now=300.0, started=50.0, last_activity=0.0, cost_usd=9.0)
    assert hit is not None and hit.reason == "idle"


def test_a_budget_without_a_price_or_without_a_limit_never_comes_due() -> None:
    assert due_limit(LIMITS, now=100.0, started=50.0, last_activity=99.0, cost_usd=None) is None
    no_idle = Limits(idle_timeout_s=None)
    assert due_limit(no_idle, now=10_000.0, started=9_000.0, last_activity=0.0, cost_usd=99.0) is None


async def test_the_first_reason_wins_and_stops_the_session_once() -> None:
    lifecycle, session = Lifecycle(), FakeSession()
    lifecycle.bind(session)
    assert lifecycle.end("end_session", drain=True) is True
    assert lifecycle.end("user_left") is False
    assert lifecycle.claim("idle") is False
    assert lifecycle.reason == "end_session" and session.shutdowns == [True]
    assert await asyncio.wait_for(lifecycle.ended(), 1) == "end_session"


async def test_claim_decides_without_stopping_until_told() -> None:
    lifecycle, session = Lifecycle(), FakeSession()
    lifecycle.bind(session)
    assert lifecycle.claim("budget") and lifecycle.ending and session.shutdowns == []
    lifecycle.stop(drain=True)
    assert session.shutdowns == [True]


async def test_a_close_decided_by_livekit_agents_gets_our_name_for_it() -> None:
    assert Lifecycle().closed("error") == "model_error"
    assert Lifecycle().closed("participant_disconnected") == "user_left"
    assert Lifecycle().closed("user_initiated") == "session_closed"
    decided = Lifecycle()
    decided.claim("idle")
    assert decided.closed("user_initiated") == "idle"


async def test_the_worker_shutting_the_job_down_is_the_final_word() -> None:
    lifecycle = Lifecycle()
    assert lifecycle.final_reason("no participant") == "session_closed"
    lifecycle.claim("end_session")
    assert lifecycle.final_reason("end_session") == "end_session"
    assert lifecycle.final_reason(WORKER_SHUTDOWN_REASON) == "worker_shutdown"


async def test_activity_is_read_from_the_clock() -> None:
    clock = FakeClock()
    lifecycle = Lifecycle(clock=clock)
    assert lifecycle.started == lifecycle.last_activity == 1000.0
    clock.now = 1042.0
    lifecycle.activity()
    assert lifecycle.last_activity == 1042.0


async def test_a_user_gone_for_the_grace_period_ends_the_session() -> None:
    lifecycle, session = Lifecycle(), FakeSession()
    lifecycle.bind(session)
    lifecycle.user_left(0.01)
    assert await asyncio.wait_for(lifecycle.ended(), 5) == "user_left"
    assert session.shutdowns == [False]


async def test_a_user_back_in_time_keeps_the_session_and_is_told_apart_from_a_first_join() -> None:
    lifecycle, session = Lifecycle(), FakeSession()
    lifecycle.bind(session)
    assert lifecycle.user_returned() is False  # the first join
    lifecycle.user_left(0.05)
    assert lifecycle.user_returned() is True
    await asyncio.sleep(0.1)
    assert not lifecycle.ending and session.shutdowns == []


async def test_close_cancels_what_runs_beside_the_conversation() -> None:
    lifecycle = Lifecycle()
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    task = lifecycle.spawn(forever())
    lifecycle.user_left(60)
    await started.wait()
    await lifecycle.close()
    assert task.cancelled()
    assert not lifecycle.ending  # the grace timer was cancelled too, not fired
