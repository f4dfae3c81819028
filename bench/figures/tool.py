"""`tool_roundtrip_ms` and `raw_rpc`.

tool_roundtrip: the simulator sends the `response.output_item.done` of a function_call (answering a
typed `/call show_card {...}`) → it receives the `conversation.item.create` carrying that call_id's
output. Both stamps come from the simulator's records, one clock. In between: livekit-agents parses
the call, the agent's tool runs `perform_rpc` to the participant (which answers at once), and the
output goes back. raw_rpc: a bare `perform_rpc` between two Python participants through the same
server, timed around the call. Blocks alternate rolecall, baseline, raw (ABAB…).

On GPT-Live (the `live` figure) the call is the backend's, in a `response.event` envelope, and its
output goes back in a `response.item.create` (`bench.tap`); no raw RPC is run there (it does not
depend on the model API), and since typing does not interrupt GPT-Live, each call waits for the spoken
answer to end (`quiet_s`) before the next, as a user would.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from livekit import rtc

from bench.participant import Participant
from bench.session import BenchSession
from bench.stack import Stack
from bench.stats import summarize
from bench.tap import Tap
from worker.protocol import CHAT_REFILL_S

CALL = '/call show_card {"title": "bench"}'
GAP_S = 0.25
"""Pause after each output; the next `/call` interrupts the follow-up reply, as a user typing would."""
PACE_S = CHAT_REFILL_S + 0.05
"""At least this long from one `/call` of a session to its next, for every agent alike: RoleCall takes
typed chat at one message per `CHAT_REFILL_S` after a burst, and refuses the rest (a refused message
would count as a failed call)."""


async def one_call(tap: Tap, s: BenchSession, timeout: float = 10.0) -> float | None:
    """One `/call`: the round trip in ms, or None when no output came back in time."""
    known = set(tap.calls)
    await s.participant.say(CALL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tap.poll()
        for call_id, (conn, sent_at) in tap.calls.items():
            if conn == s.conn and call_id not in known and call_id in tap.outputs:
                return (tap.outputs[call_id] - sent_at) * 1000
        await asyncio.sleep(0.005)
    return None


class RawRpc:
    """Two participants in one room: `caller` invokes `show_card` on `callee`, which answers at once."""

    def __init__(self, stack: Stack) -> None:
        self.caller = Participant(stack.livekit, "bench-raw-rpc", identity="caller")
        self.callee = Participant(stack.livekit, "bench-raw-rpc", identity="callee")

    async def start(self) -> None:
        await self.callee.join()
        await self.caller.join(answer_tools=False)
        await asyncio.sleep(0.5)

    async def one(self) -> float:
        payload = json.dumps({"title": "bench"})
        t0 = time.monotonic()
        await self.caller.room.local_participant.perform_rpc(
            destination_identity="callee", method="show_card", payload=payload, response_timeout=3.0
        )
        return (time.monotonic() - t0) * 1000

    async def stop(self) -> None:
        await self.caller.leave()
        await self.callee.leave()


async def run(
    stack: Stack,
    tap: Tap,
    sessions: dict[str, BenchSession],
    n: int,
    block: int,
    *,
    raw_rpc: bool = True,
    quiet_s: float | None = None,
) -> dict[str, Any]:
    """`n` samples per session (and of raw RPC, with `raw_rpc`); with `quiet_s`, each call is followed
    by a wait until the agent has been quiet that long (its spoken answer is over)."""
    samples: dict[str, list[float]] = {label: [] for label in sessions}
    if raw_rpc:
        samples["raw_rpc"] = []
    failures = dict.fromkeys(samples, 0)
    last_call = dict.fromkeys(sessions, 0.0)
    raw = RawRpc(stack) if raw_rpc else None
    if raw is not None:
        await raw.start()
    try:
        while min(len(v) for v in samples.values()) < n:
            for label, s in sessions.items():
                for _ in range(block):
                    await asyncio.sleep(max(0.0, last_call[label] + PACE_S - time.monotonic()))
                    last_call[label] = time.monotonic()
                    ms = await one_call(tap, s)
                    if ms is None:
                        failures[label] += 1
                    else:
                        samples[label].append(ms)
                    await asyncio.sleep(GAP_S)
                    if quiet_s is not None:
                        await s.participant.wait_quiet(quiet_s)
            if raw is not None:
                for _ in range(block):
                    try:
                        samples["raw_rpc"].append(await raw.one())
                    except rtc.RpcError:
                        failures["raw_rpc"] += 1
                    await asyncio.sleep(0.02)
            if max(failures.values()) > n:
                break
    finally:
        if raw is not None:
            await raw.stop()
    out: dict[str, Any] = {k: {**summarize(v), "failures": failures[k]} for k, v in samples.items()}
    out["_samples"] = samples
    return out
