"""`events`: does a slow live-event receiver slow the conversation? (issue 17)

Two freshly started RoleCall workers that differ in one setting: `events_off` has no
`ROLECALL_EVENTS_URL`; `events_slow_receiver` points it at a receiver in this process that holds every
event for `delay_s` (2 s) before answering 204, and checks nothing (no signature). Per round, ABAB, each
worker gets a fresh session that runs the capacity figure's load for one window: marked microphone
bursts and a typed tool call every `call_every_s` (tool events, the spoken follow-ups' transcript lines;
4 s, as in the capacity figure: a follow-up reply ends before the next call, so audio out is measured
on distinct onsets).
A session makes events faster than such a receiver takes them, so its backlog grows in the worker's
main process while the next sessions run.

Measured per worker, pooled over its sessions: audio in (burst captured → the append holding it at
the simulator, the `audio` figure's measure) p50/p95, missing bursts and input loss; audio out, tool
round trip, greeting, the worker tree's CPU. And what the receiver got: events, by type, how many were
held at once, and how late they arrived (`created_at` → answered).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from bench.figures.capacity import INPUT_DROP_TOLERANCE, Window, measure_window
from bench.participant import MicDriver
from bench.session import close_session, open_session
from bench.stack import Stack, WorkerProc
from bench.stats import summarize
from bench.tap import Tap

OFF, SLOW = "events_off", "events_slow_receiver"
DELAY_S = 2.0


def event_lag_s(created_at: str, answered_at: float) -> float | None:
    """Seconds from an event's `created_at` (RFC 3339) to `answered_at` (Unix time), or None when
    the timestamp cannot be read."""
    try:
        return answered_at - datetime.fromisoformat(created_at.replace("Z", "+00:00")).timestamp()
    except (ValueError, AttributeError):
        return None


@dataclass
class SlowReceiver:
    """An HTTP endpoint that takes `delay_s` to answer each POST, then answers 204 (verifies nothing)."""

    delay_s: float = DELAY_S
    types: dict[str, int] = field(default_factory=dict)
    """Events answered, by type."""
    lags: list[float] = field(default_factory=list)
    """Seconds from each event's `created_at` to its answer (the backlog it waited behind, + delay_s)."""
    in_flight: int = 0
    max_in_flight: int = 0
    _runner: web.AppRunner | None = None
    _sock: socket.socket | None = None

    @property
    def url(self) -> str:
        assert self._sock is not None, "start() first"
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/events"

    async def start(self) -> SlowReceiver:
        app = web.Application()
        app.router.add_post("/events", self._event)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, self._sock).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def summary(self) -> dict[str, Any]:
        return {
            "delay_s": self.delay_s,
            "events": sum(self.types.values()),
            "by_type": dict(sorted(self.types.items())),
            "max_in_flight": self.max_in_flight,
            "lag_s": summarize(self.lags),
        }

    async def _event(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay_s)
        finally:
            self.in_flight -= 1
        try:
            event = json.loads(body)
            kind, created = str(event.get("type")), str(event.get("created_at"))
        except (ValueError, AttributeError):
            kind, created = "unreadable", ""
        self.types[kind] = self.types.get(kind, 0) + 1
        lag = event_lag_s(created, time.time())
        if lag is not None:
            self.lags.append(lag)
        return web.Response(status=204)


def pooled(windows: list[Window], greetings: list[float]) -> dict[str, Any]:
    """One worker's figure from its sessions' windows: the latencies pooled, losses summed."""
    audio_in = [x for w in windows for x in w.audio_in]
    received = sum(w.received_samples for w in windows)
    expected = sum(w.expected_samples for w in windows)
    return {
        "sessions": len(windows),
        "audio_in_ms": {
            **summarize(audio_in),
            "missing": sum(w.missing for w in windows),
            "bursts": sum(w.bursts for w in windows),
        },
        "input_drop": round(max(0.0, 1 - received / expected), 4) if expected > 0 else 0.0,
        "audio_out_ms": summarize([x for w in windows for x in w.audio_out]),
        "tool_roundtrip_ms": summarize([x for w in windows for x in w.tool]),
        "greeting_ms": summarize(greetings),
        "cpu_pct": round(sum(w.cpu_pct for w in windows) / len(windows), 1) if windows else None,
        "bench_late_ticks": sum(w.late_ticks for w in windows),
    }


async def run(
    stack: Stack, tap: Tap, rounds: int, window_s: float, call_every_s: float = 4.0
) -> dict[str, Any]:
    receiver = await SlowReceiver().start()
    secret = {"ROLECALL_WEBHOOK_SECRET": secrets.token_hex(24)}  # the events worker signs with it
    agents: dict[str, WorkerProc] = {
        OFF: stack.worker("rolecall_events_off", extra_env=secret),
        SLOW: stack.worker("rolecall_events_slow", extra_env={**secret, "ROLECALL_EVENTS_URL": receiver.url}),
    }
    mics = MicDriver()
    windows: dict[str, list[Window]] = {k: [] for k in agents}
    greetings: dict[str, list[float]] = {k: [] for k in agents}
    try:
        for agent in agents.values():
            await asyncio.to_thread(agent.start)
        for agent in agents.values():
            await agent.settle()  # the warm job processes finish starting
        mics.start()
        for _ in range(rounds):
            for label, agent in agents.items():
                s = await open_session(stack, tap, agent, mics=mics, timeout=60.0)
                try:
                    greetings[label].append(s.greeting_ms)
                    await s.participant.wait_quiet(0.5, timeout=20.0)
                    s.participant.bursting = True
                    await agent.settle()  # the warm process replacing the one just taken is up
                    windows[label].append(
                        await measure_window(tap, [s], mics, agent.tree(), window_s, call_every_s)
                    )
                finally:
                    await close_session(stack, s, mics)
    finally:
        await mics.stop()
        for agent in agents.values():
            await asyncio.to_thread(agent.stop)
        await receiver.stop()
    out: dict[str, Any] = {label: pooled(windows[label], greetings[label]) for label in agents}
    out["receiver"] = receiver.summary()
    out["window_s"] = window_s
    out["call_every_s"] = call_every_s
    out["input_drop_tolerance"] = INPUT_DROP_TOLERANCE
    out["_samples"] = {label: [x for w in windows[label] for x in w.audio_in] for label in agents}
    return out
