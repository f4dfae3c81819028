"""docker-compose.yml's topology as processes: LiveKit, two `start` workers (same agent name), the web
backend, the simulator. Sessions spread over the workers, SIGTERM drains, SIGKILL is recovered by the
page's re-dispatch with the conversation carried over.

Timings are printed (`pytest -s`), never asserted; `bench/redispatch_wait.py` measures the wait over
several runs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from tests.deploy.topology import Session, Topology, agent_job_id, http_get
from tests.support.livekit_server import LiveKitServer

pytestmark = pytest.mark.integration

MAX_SESSIONS = 2
"""Per worker: two sessions fill one (load 0.7), so four sessions must use both workers."""
DRAIN_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def topology(livekit_server: LiveKitServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    topo = Topology(
        livekit_server,
        tmp_path_factory.mktemp("deploy"),
        extra_env={
            "ROLECALL_MAX_SESSIONS": str(MAX_SESSIONS),
            "ROLECALL_DISCONNECT_GRACE_S": "2",
            "ROLECALL_DRAIN_TIMEOUT_S": str(DRAIN_TIMEOUT_S),
        },
    ).start()
    yield topo
    topo.stop()
    assert topo.simulator.sim.violations == []


@pytest.fixture
def topo(topology: Topology) -> Topology:
    """The topology with both workers running and idle."""
    topology.ensure_workers()
    return topology


async def greeted(session: Session) -> Session:
    await session.ui.wait_for(lambda: session.ui.agent_text(), 30, "the agent's greeting")
    return session


def test_health_endpoints_answer(topo: Topology) -> None:
    # The URLs docker-compose.yml's healthchecks poll, on the real processes.
    for w in topo.workers:
        status, body = w.health()
        assert status == 200, body
        assert body["livekit"] == "connected" and body["draining"] is False
        assert body["max_sessions"] == MAX_SESSIONS
    status, body = http_get(f"{topo.web_url}/api/health")
    assert (status, body) == (200, {"status": "ok"})


async def test_sessions_spread_over_both_workers(topo: Topology) -> None:
    sessions = [await greeted(await topo.open_session()) for _ in range(2 * MAX_SESSIONS)]
    try:
        owners = [topo.worker_of(agent_job_id(s.ui)).name for s in sessions]
        print(f"\nsessions per worker: {owners}")
        assert sorted(owners) == sorted(w.name for w in topo.workers for _ in range(MAX_SESSIONS))
        assert [w.active_sessions() for w in topo.workers] == [MAX_SESSIONS] * len(topo.workers)
    finally:
        for s in sessions:
            await s.ui.leave()
    topo.wait_idle()


async def test_sigterm_drains_the_worker(topo: Topology) -> None:
    first = await greeted(await topo.open_session())
    draining = topo.worker_of(agent_job_id(first.ui))
    other = next(w for w in topo.workers if w is not draining)

    draining.sigterm()
    deadline = time.monotonic() + 10
    while not draining.health()[1]["draining"]:
        assert time.monotonic() < deadline, "the worker did not start draining"
        await asyncio.sleep(0.1)
    # Still healthy while draining: the orchestrator must not kill it.
    assert draining.health()[0] == 200

    # New sessions go to the other worker.
    second = await greeted(await topo.open_session())
    assert topo.worker_of(agent_job_id(second.ui)) is other

    # The active session keeps answering.
    await first.ui.say_text("are you still there")
    await first.ui.wait_for(lambda: "are you still there" in first.ui.agent_text(), 20, "the reply")
    assert draining.running

    # The worker exits once its session has ended (the user left; the grace period passed).
    left_at = time.monotonic()
    await first.ui.leave()
    code = await asyncio.to_thread(draining.wait_exit, DRAIN_TIMEOUT_S)
    print(f"\ndrained worker exited {time.monotonic() - left_at:.1f} s after its user left")
    assert code == 0
    assert "draining worker" in draining.log()
    assert "drain timed out" not in draining.log()
    # The drained session ended normally, and its report holds the whole conversation.
    (report,) = await topo.wait_reports(first.room)
    said = [(t["speaker"], t["text"]) for t in report["transcript"]]
    assert said[0][0] == "agent"  # the greeting
    assert ("user", "are you still there") in said
    assert any(who == "agent" and "are you still there" in text for who, text in said)
    await second.ui.leave()


async def test_sigkill_then_redispatch_continues_the_conversation(topo: Topology) -> None:
    session = await greeted(await topo.open_session())
    ui = session.ui
    old_agent = ui.agent()
    assert old_agent is not None
    victim = topo.worker_of(agent_job_id(ui))
    await ui.say_text("remember the basil")
    await ui.wait_for(lambda: "remember the basil" in ui.agent_text(), 20, "the reply")
    # The transcript tail reaches the room metadata (saved every 2 s), which outlives the agent.
    deadline = time.monotonic() + 15
    while "remember the basil" not in await topo.room_metadata(session.room):
        assert time.monotonic() < deadline, "the transcript tail never reached the room metadata"
        await asyncio.sleep(0.2)

    sim = topo.simulator.sim
    updates_before = len(sim.received_of("session.update"))
    killed_at = time.monotonic()
    victim.sigkill()
    # The page shows "Bring the agent back" once the agent has left the room.
    await ui.wait_for(lambda: ui.agent() is None, 60, "LiveKit to drop the killed agent")
    gone_at = time.monotonic()
    ui.first_audio_at = None
    transcripts_before = len(ui.transcripts)

    redispatched_at = time.monotonic()
    status, body = await topo.redispatch(session)
    assert status == 200, body
    assert body == {"room": session.room, "dispatched": True}

    def new_agent_spoke() -> bool:
        agent = ui.agent()
        return (
            agent is not None
            and agent.identity != old_agent.identity
            and any(t.speaker == agent.identity for t in ui.transcripts[transcripts_before:])
        )

    await ui.wait_for(new_agent_spoke, 30, "the new agent's first words")
    new_agent = ui.agent()
    assert new_agent is not None
    first_text_at = min(t.at for t in ui.transcripts[transcripts_before:] if t.speaker == new_agent.identity)
    await ui.wait_for(lambda: ui.first_audio_at is not None, 10, "the new agent's audio")
    assert ui.first_audio_at is not None
    first_at = min(first_text_at, ui.first_audio_at)
    print(
        f"\nre-dispatch wait: kill->agent gone {gone_at - killed_at:.1f} s, "
        f"redispatch->first audio {ui.first_audio_at - redispatched_at:.1f} s, "
        f"redispatch->first transcript {first_text_at - redispatched_at:.1f} s, "
        f"kill->first audio/transcript {first_at - killed_at:.1f} s"
    )

    # The new agent was told the conversation so far.
    updates = sim.received_of("session.update")[updates_before:]
    instructions = [str(u["session"].get("instructions", "")) for u in updates]
    resumed = [i for i in instructions if "resuming a conversation" in i]
    assert resumed, f"no resumed instructions in {len(updates)} session.update events"
    assert "remember the basil" in resumed[0]
    assert topo.worker_of(agent_job_id(ui)) is not victim
    await ui.say_text("what about the basil")
    await ui.wait_for(lambda: "what about the basil" in ui.agent_text(), 20, "the new agent's reply")
    await ui.leave()
    # The killed worker sends nothing, but the other one shares its spool (as in compose) and reports
    # its session from the checkpoints: a partial report, `crashed`. The new agent reports the rest.
    reports = await topo.wait_reports(session.room, count=2)
    crashed = next(r for r in reports if r["end_reason"] == "crashed")
    resumed_report = next(r for r in reports if r is not crashed)
    assert crashed["complete"] is False
    assert ("user", "remember the basil") in [(t["speaker"], t["text"]) for t in crashed["transcript"]]
    said = [(t["speaker"], t["text"]) for t in resumed_report["transcript"]]
    assert ("user", "what about the basil") in said
    assert ("user", "remember the basil") not in said
