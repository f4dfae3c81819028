"""`greeting_ms`: dispatch created → the first agent audio onset at the participant, per simulator
connection delay (`Faults.connect_delay`, applied to every new model connection). Each sample is a
fresh room: dispatch, join at once, hear the greeting, leave, delete the room. ABAB per sample.

Each greeting is also split in two (`_phases`): the dispatch path (dispatch created → the agent in
the room: livekit-server hands the job to the worker, a job process takes it and joins), and the rest
(agent in the room → its first audio: the agent's session, the model's answer, the audio's way back),
with the agent's audio track subscribed in between.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench.session import BenchSession, close_session, open_session
from bench.stack import Stack, WorkerProc
from bench.stats import summarize
from bench.tap import Tap

PHASES = ("dispatch_to_agent_in_room", "agent_in_room_to_track", "agent_in_room_to_audio")
"""The parts of a greeting (ms), in `_phases`; the last is the greeting beyond the dispatch path."""


def _phases(s: BenchSession) -> dict[str, float | None]:
    track = None if s.track_ms is None or s.joined_ms is None else s.track_ms - s.joined_ms
    return dict(zip(PHASES, (s.joined_ms, track, s.after_join_ms), strict=True))


async def run(
    stack: Stack, tap: Tap, agents: dict[str, WorkerProc], n: int, delays: tuple[float, ...] = (0.0, 0.3)
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    sim = stack.simulator.sim
    try:
        for delay in delays:
            sim.faults.connect_delay = delay
            samples: dict[str, list[float]] = {k: [] for k in agents}
            phases: dict[str, dict[str, list[float]]] = {k: {p: [] for p in PHASES} for k in agents}
            failures = dict.fromkeys(agents, 0)
            for _ in range(n):
                for label, agent in agents.items():
                    try:
                        s = await open_session(stack, tap, agent, timeout=30.0)
                    except TimeoutError:
                        failures[label] += 1
                        continue
                    samples[label].append(s.greeting_ms)
                    for phase, value in _phases(s).items():
                        if value is not None:
                            phases[label][phase].append(value)
                    await close_session(stack, s)
                    await asyncio.sleep(0.3)
            key = f"connect_delay_{int(delay * 1000)}ms"
            out[key] = {k: {**summarize(v), "failures": failures[k]} for k, v in samples.items()}
            out[key]["_samples"] = samples
            out[key]["_phases"] = {
                label: {p: summarize(v) for p, v in by_phase.items()} for label, by_phase in phases.items()
            }
    finally:
        sim.faults.connect_delay = 0.0
    return out
