"""Pre-opened model connections (`worker.preopen`): an idle job process connects to the model before any
dispatch, the job that arrives uses that connection (its first message on it is the role's setup),
an expired or broken one is replaced, and none is left open when the worker exits.

Read from the simulator's records: when a connection was opened (its `session.created`, or the moment
it appeared for GPT-Live, which sends nothing first) and what the client sent on it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.session.conftest import Stack, make_stack
from tests.support.livekit_server import LiveKitServer
from worker.simulator.server import Connection, Simulator

pytestmark = pytest.mark.integration

MAX_AGE_S = 10
"""ROLECALL_MODEL_PREOPEN_MAX_AGE_S of this stack (the smallest allowed): expiry within a test."""


@pytest.fixture(scope="module")
def stack(livekit_server: LiveKitServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from make_stack(livekit_server, tmp_path_factory, ROLECALL_MODEL_PREOPEN_MAX_AGE_S=str(MAX_AGE_S))


def _idle(sim: Simulator, live: bool = False) -> list[Connection]:
    """Open connections the client has sent nothing on yet (pre-opened, waiting for a job)."""
    used = {r.connection for r in sim.received}
    return [
        c
        for c in list(sim.connections)
        if not c.closed and c.id not in used and (c.wire.path.endswith("sessions") == live)
    ]


async def _wait_idle(sim: Simulator, live: bool = False, exclude: frozenset[str] = frozenset()) -> Connection:
    async with asyncio.timeout(60):
        while not (found := [c for c in _idle(sim, live) if c.id not in exclude]):
            await asyncio.sleep(0.05)
    return found[0]


def _first_received(sim: Simulator, conn_id: str) -> str | None:
    return next((r.type for r in sim.received if r.connection == conn_id), None)


async def _greeted_on_preopened(stack: Stack, role: str, live: bool, first_event: str) -> None:
    sim = stack.simulator.sim
    idle = await _wait_idle(sim, live)
    await asyncio.sleep(0.5)  # nothing else is connecting: the idle process is ready
    dispatched_at = time.monotonic()
    opened_before = {c.id for c in sim.connections}
    ui = await stack.session(role)
    try:
        await ui.wait_for(lambda: ui.agent_text().strip() != "", timeout=30, what="the greeting")
        used = {r.connection for r in sim.received if r.at >= dispatched_at}
        assert idle.id in used, f"the job did not use the pre-opened {idle.id}; it used {sorted(used)}"
        assert _first_received(sim, idle.id) == first_event, "the role's setup is not the first message"
        new = used - opened_before
        assert not new, f"the job opened connections of its own: {sorted(new)}"
    finally:
        await ui.leave()


async def test_a_realtime_job_greets_on_the_connection_opened_before_its_dispatch(stack: Stack) -> None:
    await _greeted_on_preopened(stack, "bench", live=False, first_event="session.update")


async def test_a_gpt_live_job_greets_on_the_connection_opened_before_its_dispatch(stack: Stack) -> None:
    await _greeted_on_preopened(stack, "bench-gpt-live", live=True, first_event="session.start")


async def test_a_broken_preopened_connection_is_replaced_and_the_new_one_used(stack: Stack) -> None:
    sim = stack.simulator.sim
    broken = await _wait_idle(sim)
    stack.simulator.call(broken.drop())  # cut without a close frame, as a network failure would
    fresh = await _wait_idle(sim, exclude=frozenset({broken.id}))
    assert fresh.id != broken.id
    await _greeted_on_preopened(stack, "bench", live=False, first_event="session.update")


async def test_an_expired_preopened_connection_is_closed_and_reopened(stack: Stack) -> None:
    sim = stack.simulator.sim
    first = await _wait_idle(sim)
    async with asyncio.timeout(MAX_AGE_S + 20):  # a deadline, not a measurement
        while first in sim.connections:
            await asyncio.sleep(0.1)
    assert _first_received(sim, first.id) is None, "the expired connection was used by a job"
    replacement = await _wait_idle(sim, exclude=frozenset({first.id}))
    assert replacement.id != first.id


async def test_job_processes_fork_with_the_session_code_already_loaded(stack: Stack) -> None:
    """`worker.server.PRELOADED_MODULES`: the forkserver imports the session code once, so every job
    process shares it. Python modules leave no trace in /proc, but their C extensions do: `re2` and
    `rpds` (jsonschema's) come with `worker.session` and with nothing livekit-agents preloads."""
    assert stack.worker.proc is not None
    await _wait_idle(stack.simulator.sim)  # the warm job process has forked from the forkserver
    worker = psutil.Process(stack.worker.proc.pid)
    # job processes fork from the forkserver without exec: they carry its command line, one level down
    forkservers = [p for p in worker.children() if "multiprocessing.forkserver" in " ".join(p.cmdline())]
    assert len(forkservers) == 1, [" ".join(p.cmdline())[:90] for p in worker.children()]
    maps = await asyncio.to_thread(Path(f"/proc/{forkservers[0].pid}/maps").read_text)
    assert "re2/_re2" in maps and "rpds/rpds" in maps, "the forkserver has not imported worker.session"


async def test_no_connection_outlives_the_worker(stack: Stack) -> None:
    sim = stack.simulator.sim
    await _wait_idle(sim)
    await _wait_idle(sim, live=True)
    stack.worker.stop()
    async with asyncio.timeout(30):
        while sim.connections:
            await asyncio.sleep(0.1)
    log = stack.worker.log()
    for leak in ("Unclosed client session", "Unclosed connection", "Task was destroyed but it is pending"):
        assert leak not in log, f"the worker log says {leak!r}"
