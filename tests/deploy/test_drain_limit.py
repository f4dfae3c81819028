"""SIGTERM with a session that does not end: the worker drains for ROLECALL_DRAIN_TIMEOUT_S, then ends
the session itself, and the session's report still holds the whole conversation.

(tests/deploy/test_topology.py covers the drain in which the session ends on its own.)
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator

import pytest

from tests.session.conftest import Stack, make_stack
from tests.support.livekit_server import LiveKitServer

pytestmark = pytest.mark.integration

DRAIN_TIMEOUT_S = 4


@pytest.fixture(scope="module")
def stack(livekit_server: LiveKitServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from make_stack(
        livekit_server,
        tmp_path_factory,
        mode="start",
        ROLECALL_DRAIN_TIMEOUT_S=str(DRAIN_TIMEOUT_S),
        ROLECALL_HEALTH_PORT="0",
        ROLECALL_IDLE_PROCESSES="1",
    )


async def test_a_session_outliving_the_drain_is_ended_and_reported(stack: Stack) -> None:
    ui = await stack.session("bench")
    try:
        await ui.wait_for(lambda: "Hello" in ui.agent_text(), what="greeting")
        await ui.say_text("before the drain")
        await ui.wait_for(lambda: "You said: before the drain" in ui.agent_text(), what="the first reply")
        assert stack.worker.proc is not None
        signalled = time.monotonic()
        stack.worker.signal(signal.SIGTERM)
        # The session goes on while the worker drains.
        await ui.say_text("still here while it drains")
        await ui.wait_for(lambda: "You said: still here while it drains" in ui.agent_text(), what="a reply")
        code = await asyncio.to_thread(stack.worker.proc.wait, 90)
        waited = time.monotonic() - signalled
        print(f"\nworker exited {waited:.1f} s after SIGTERM (drain limit {DRAIN_TIMEOUT_S} s), code {code}")
        assert waited >= DRAIN_TIMEOUT_S  # it did not walk out on an active session
        log = stack.worker.log()
        assert "draining worker" in log
        await ui.wait_for(lambda: ui.agent() is None, timeout=30, what="the agent to leave")
        report = await stack.wait_report(ui.room_name)
        said = [(t["speaker"], t["text"]) for t in report["transcript"]]
        assert ("user", "before the drain") in said
        assert ("user", "still here while it drains") in said
        assert any(who == "agent" and "still here while it drains" in text for who, text in said)
        assert report["end_reason"] == "worker_shutdown"
    finally:
        await ui.leave()
