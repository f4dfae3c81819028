"""`live`: the GPT-Live path, RoleCall against bare livekit-agents on `GPTLiveModel`.

Two workers of their own: RoleCall serving the bench role's GPT-Live twin (`bench.roles.LIVE_ROLE`,
`api: live`) and the baseline with `BASELINE_API=live`. The figures that apply to GPT-Live, measured as
their Realtime versions are (`bench.tap` reads GPT-Live's wire): the tool round trip (the backend's
function call sent → its output received, simulator clock; each call waits for the spoken answer,
since typing does not interrupt GPT-Live), audio in and out, and the greeting at 0 ms connection delay.

GPT-Live has no turn detection to switch off: the model answers the bursts of the audio-in figure
when they stop ("You said: ..."), so before audio out each session waits for that answer to end.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from bench.figures import audio, greeting, tool
from bench.session import BenchSession, close_session, open_session
from bench.stack import Stack, WorkerProc
from bench.tap import Tap

QUIET_S = 1.5
"""Quiet that ends the agent's answer: longer than the simulator's 1 s of silence after an utterance
plus the pause after a sentence (0.25 s), so the acknowledgement GPT-Live speaks while the tool runs
and the answer after it count as one."""


@dataclass(frozen=True)
class LiveCounts:
    """Samples per agent: tool calls (in blocks of `tool_block`), bursts and replies (in blocks of
    `block`), greetings."""

    tool: int
    tool_block: int
    audio: int
    block: int
    greeting: int


async def run(stack: Stack, tap: Tap, agents: dict[str, WorkerProc], counts: LiveCounts) -> dict[str, Any]:
    """`agents`: `rolecall` and `baseline`, both on GPT-Live and started. Results shaped as the
    Realtime figures: `tool_roundtrip_ms`, `audio_in_ms`, `audio_out_ms`, `greeting_ms`."""
    from bench.participant import MicDriver

    out: dict[str, Any] = {}
    sessions = await _open(stack, tap, agents)
    try:
        await _quiet(sessions)
        out["tool_roundtrip_ms"] = await tool.run(
            stack, tap, sessions, counts.tool, counts.tool_block, raw_rpc=False, quiet_s=QUIET_S
        )
    finally:
        await _close(stack, sessions)
    mics = MicDriver()
    mics.start()
    try:
        sessions = await _open(stack, tap, agents, mics)
        try:
            await _quiet(sessions)
            out |= await audio.audio_in(tap, sessions, counts.audio, counts.block)
            await asyncio.sleep(1.0)  # the answer to the last bursts starts 0.6 s after them
            await _quiet(sessions)
            out |= await audio.audio_out(tap, sessions, counts.audio, counts.block)
        finally:
            await _close(stack, sessions, mics)
    finally:
        await mics.stop()
    out["greeting_ms"] = await greeting.run(stack, tap, agents, counts.greeting, delays=(0.0,))
    return out


async def _open(
    stack: Stack, tap: Tap, agents: dict[str, WorkerProc], mics: Any = None
) -> dict[str, BenchSession]:
    return {label: await open_session(stack, tap, agent, mics=mics) for label, agent in agents.items()}


async def _close(stack: Stack, sessions: dict[str, BenchSession], mics: Any = None) -> None:
    for s in sessions.values():
        await close_session(stack, s, mics)


async def _quiet(sessions: dict[str, BenchSession]) -> None:
    """Until every agent has finished speaking (the greeting, or the answer to the last bursts)."""
    for s in sessions.values():
        await s.participant.wait_quiet(QUIET_S)
