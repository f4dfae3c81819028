"""`greeting_ms`: dispatch created → the first agent audio onset at the participant, per simulator
connection delay (`Faults.connect_delay`, applied to every new model connection). Each sample is a
fresh room: dispatch, join at once, hear the greeting, leave, delete the room. ABAB per sample.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench.session import close_session, open_session
from bench.stack import Stack, WorkerProc
from bench.stats import summarize
from bench.tap import Tap


async def run(
    stack: Stack, tap: Tap, agents: dict[str, WorkerProc], n: int, delays: tuple[float, ...] = (0.0, 0.3)
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    sim = stack.simulator.sim
    try:
        for delay in delays:
            sim.faults.connect_delay = delay
            samples: dict[str, list[float]] = {k: [] for k in agents}
            failures = dict.fromkeys(agents, 0)
            for _ in range(n):
                for label, agent in agents.items():
                    try:
                        s = await open_session(stack, tap, agent, timeout=30.0)
                    except TimeoutError:
                        failures[label] += 1
                        continue
                    samples[label].append(s.greeting_ms)
                    await close_session(stack, s)
                    await asyncio.sleep(0.3)
            key = f"connect_delay_{int(delay * 1000)}ms"
            out[key] = {k: {**summarize(v), "failures": failures[k]} for k, v in samples.items()}
            out[key]["_samples"] = samples
    finally:
        sim.faults.connect_delay = 0.0
    return out
