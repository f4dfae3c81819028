"""Opening one bench session: the participant joins, the agent is dispatched, the greeting plays.

Sessions are opened one at a time so that the simulator connection first used after the dispatch is
this session's (`Tap.new_connection`); the figures read that connection's records.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass

from bench.participant import MicDriver, Participant
from bench.stack import Stack, WorkerProc
from bench.tap import Tap


@dataclass
class BenchSession:
    label: str
    room: str
    participant: Participant
    conn: str
    greeting_ms: float
    """Dispatch created → first agent audio onset at the participant."""
    joined_ms: float | None = None
    """Dispatch created → the agent in the room (the dispatch path: livekit-server hands the job to a
    worker, a job process takes it and joins)."""
    track_ms: float | None = None
    """Dispatch created → the agent's audio track subscribed."""

    @property
    def after_join_ms(self) -> float | None:
        """The greeting beyond the dispatch path: agent in the room → its first audio."""
        return None if self.joined_ms is None else self.greeting_ms - self.joined_ms


async def open_session(
    stack: Stack, tap: Tap, agent: WorkerProc, *, mics: MicDriver | None = None, timeout: float = 45.0
) -> BenchSession:
    """Dispatch `agent` to a new room, join it, and return once the greeting is heard."""
    room = f"bench-{agent.label}-{uuid.uuid4().hex[:8]}"
    t0 = time.monotonic()
    await stack.dispatch(agent, room)
    p = await Participant(stack.livekit, room).join()
    if mics is not None:
        await p.publish_mic()
        mics.add(p)
    deadline = time.monotonic() + timeout
    conn = None
    while conn is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{agent.label}: no model connection for {room} within {timeout}s")
        conn = tap.new_connection(t0)
        await asyncio.sleep(0.01)
    heard = await p.wait_audio(after=t0, timeout=max(1.0, deadline - time.monotonic()))
    joined = None if p.agent_joined_at is None else (p.agent_joined_at - t0) * 1000
    track = None if p.agent_track_at is None else (p.agent_track_at - t0) * 1000
    return BenchSession(agent.label, room, p, conn, (heard - t0) * 1000, joined, track)


async def close_session(stack: Stack, s: BenchSession, mics: MicDriver | None = None) -> None:
    if mics is not None:
        mics.remove(s.participant)
    await s.participant.leave()
    with contextlib.suppress(Exception):  # the room may be gone already
        await stack.delete_room(s.room)
