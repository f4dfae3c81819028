"""`chunk`: the cost of RoleCall's input chunk (ROLECALL_AUDIO_INPUT_CHUNK_MS) at a fixed load.

For each chunk size, a freshly started RoleCall worker (pinned like the capacity figure) runs `sessions`
sessions under the capacity load (bursts and tool calls) for one window: CPU per session of the worker
tree, and audio-in latency (burst captured → the append holding it at the simulator). Smaller chunks
reach the model sooner and cost more WebSocket messages.
"""

from __future__ import annotations

from typing import Any

from bench.figures.capacity import measure_level
from bench.participant import MicDriver
from bench.session import BenchSession, close_session, open_session
from bench.stack import Stack
from bench.tap import Tap

CHUNKS_MS = (20, 40, 100)


async def run(
    stack: Stack, tap: Tap, sessions: int, window_s: float, call_every_s: float = 4.0
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for ms in CHUNKS_MS:
        agent = stack.worker(f"rolecall_chunk{ms}", extra_env={"ROLECALL_AUDIO_INPUT_CHUNK_MS": str(ms)})
        agent.start()
        mics = MicDriver()
        mics.start()
        opened: list[BenchSession] = []
        try:
            await agent.settle()  # the warm job processes finish starting
            for _ in range(sessions):
                opened.append(await open_session(stack, tap, agent, mics=mics, timeout=60.0))
            for s in opened:
                await s.participant.wait_quiet(0.5, timeout=20.0)
                s.participant.bursting = True
            await agent.settle()
            level = await measure_level(tap, opened, mics, agent.tree(), window_s, call_every_s)
            out[f"{ms}ms"] = {
                "sessions": sessions,
                "cpu_pct_per_session": round(level["cpu_pct"] / sessions, 1),
                "audio_in_ms": level["audio_in_ms"],
                "audio_out_ms": level["audio_out_ms"],
                "appends_per_s_per_session": round(1000 / ms, 1),
                "missing_bursts": level["missing_bursts"],
                "input_drop": level["input_drop"],
            }
        finally:
            await mics.stop()
            for s in opened:
                await close_session(stack, s)
            agent.stop()
    return out
