"""`capacity`: concurrent sessions until audio latency p95 doubles over one session or audio drops.

For each variant in turn (not alternated: both at once would double the load), sessions are added up to
each level (`bench.__main__.Counts.levels`). In a level's window every session's microphone sends marked
bursts (audio in) and every session types `/call show_card` every `call_every_s` (a tool call over RPC,
and the spoken follow-up: audio out). Per level: audio-in, audio-out and tool round-trip p50/p95,
missing bursts, the share of microphone audio that never reached the model (`input_drop`), and CPU and
memory (RSS, and PSS, which splits the pages forked job processes share) of the worker's process
tree (worker + job processes) over the window. Per session: CPU = the tree's CPU / sessions (the idle
tree's own, `idle_cpu_pct`, included: what a deployment pays), memory = (level − idle tree) / sessions.
The ramp stops at the first level that fails; `max_sessions` is the last level that passed.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench.figures.audio import match_bursts
from bench.figures.tool import CALL
from bench.marks import SAMPLE_RATE
from bench.participant import FRAME_S, MicDriver
from bench.procstats import TreeSample, cpu_pct, sample
from bench.session import BenchSession, close_session, open_session
from bench.stack import Stack, WorkerProc
from bench.stats import summarize
from bench.tap import Tap

MIN_AVAILABLE_MB = 1500
IDLE_WINDOW_S = 2.0
"""How long the idle worker tree's CPU is measured before the ramp (reported, not subtracted)."""


async def caller(tap: Tap, s: BenchSession, every: float, offset: float, rtts: list[float]) -> None:
    """Type `/call show_card` on `s` every `every` s (after `offset`) until cancelled; append each call's
    round trip (ms) to `rtts`, also when its output arrives after the next call was typed."""
    await asyncio.sleep(offset)
    seen = set(tap.calls)  # calls of earlier windows on this session are not this window's
    while True:
        t0 = time.monotonic()
        await s.participant.say(CALL)
        while time.monotonic() - t0 < every:
            tap.poll()
            for call_id, (conn, sent_at) in list(tap.calls.items()):
                if conn == s.conn and call_id not in seen and call_id in tap.outputs:
                    rtts.append((tap.outputs[call_id] - sent_at) * 1000)
                    seen.add(call_id)
            await asyncio.sleep(0.05)


def _audio_out(tap: Tap, s: BenchSession, since: float, until: float) -> list[float]:
    out = []
    for t in tap.reply_onsets[s.conn]:
        if since <= t <= until:
            heard = next((h for h in s.participant.audio_onsets if t < h < t + 2.0), None)
            if heard is not None:
                out.append((heard - t) * 1000)
    return out


@dataclass
class Window:
    """What one measuring window saw, unsummarized (figures pool several windows)."""

    audio_in: list[float] = field(default_factory=list)
    """Burst captured → its append at the simulator, ms, for each burst found."""
    audio_out: list[float] = field(default_factory=list)
    tool: list[float] = field(default_factory=list)
    missing: int = 0
    bursts: int = 0
    received_samples: int = 0
    """Microphone samples that reached the model between the window's first and last look."""
    expected_samples: float = 0.0
    """Samples the microphones sent in that time (24 kHz × seconds × sessions)."""
    cpu_pct: float = 0.0
    """The worker tree's CPU over the window, % of one core."""
    before: TreeSample | None = None
    after: TreeSample | None = None
    late_ticks: int = 0

    def input_drop(self) -> float:
        """The share of microphone audio that never reached the model (0 when none was expected)."""
        if self.expected_samples <= 0:
            return 0.0
        return round(max(0.0, 1 - self.received_samples / self.expected_samples), 4)


async def measure_window(
    tap: Tap,
    sessions: list[BenchSession],
    mics: MicDriver,
    procs: list[psutil.Process],
    window_s: float,
    call_every_s: float,
) -> Window:
    """Run the load (bursts, which the sessions must already send, and tool calls) for `window_s`."""
    tap.poll()
    looked = time.monotonic()  # received audio is counted from this look at the simulator's records
    samples_before = {s.conn: tap.input_samples[s.conn] for s in sessions}
    bursts_before = {s.conn: len(s.participant.burst_times) for s in sessions}
    late_before = mics.late_ticks
    w = Window()
    callers = [
        asyncio.ensure_future(caller(tap, s, call_every_s, i * call_every_s / len(sessions), w.tool))
        for i, s in enumerate(sessions)
    ]
    w.before = sample(procs)
    t0 = time.monotonic()
    await asyncio.sleep(window_s)
    t1 = time.monotonic()
    w.after = sample(procs)
    for c in callers:
        c.cancel()
    await asyncio.gather(*callers, return_exceptions=True)
    await asyncio.sleep(1.0)  # the last bursts and replies arrive
    tap.poll()
    # to this look: what is in flight at either end (the path's latency) cancels out
    w.expected_samples = (time.monotonic() - looked) * SAMPLE_RATE * len(sessions)
    for s in sessions:
        p = s.participant
        times = [t for t in p.burst_times[bursts_before[s.conn] :] if t < t1]
        found = match_bursts(times, tap.input_onsets[s.conn], p.burst_every * FRAME_S)
        w.audio_in += [x for x in found if x is not None]
        w.missing += sum(x is None for x in found)
        w.bursts += len(found)
        w.audio_out += _audio_out(tap, s, t0, t1)
        w.received_samples += tap.input_samples[s.conn] - samples_before[s.conn]
    w.cpu_pct = cpu_pct(w.before, w.after, t1 - t0)
    w.late_ticks = mics.late_ticks - late_before
    return w


async def measure_level(
    tap: Tap,
    sessions: list[BenchSession],
    mics: MicDriver,
    procs: list[psutil.Process],
    window_s: float,
    call_every_s: float,
) -> dict[str, Any]:
    """One window of the load on `sessions`, summarized."""
    w = await measure_window(tap, sessions, mics, procs, window_s, call_every_s)
    assert w.after is not None
    return {
        "sessions": len(sessions),
        "audio_in_ms": summarize(w.audio_in),
        "audio_out_ms": summarize(w.audio_out),
        "tool_roundtrip_ms": summarize(w.tool),
        "missing_bursts": w.missing,
        "bursts": w.bursts,
        "input_drop": w.input_drop(),
        "rss_mb": round(w.after.rss_mb, 1),
        "pss_mb": round(w.after.pss_mb, 1),
        "processes": w.after.processes,
        "cpu_pct": round(w.cpu_pct, 1),
        "bench_late_ticks": w.late_ticks,
    }


INPUT_DROP_TOLERANCE = 0.01
"""`input_drop` compares the audio received between two looks at the simulator's records with the time
between them: a level with no loss reads up to about half a percent either way, so 1% is the line for
"no input loss"."""


def _failed(level: dict[str, Any], first: dict[str, Any]) -> str | None:
    p95, p95_1 = level["audio_in_ms"]["p95"], first["audio_in_ms"]["p95"]
    if p95 is None:
        return f"no burst reached the model ({level['bursts']} sent)"
    if p95_1 is not None and p95 > 2 * p95_1:
        return f"audio-in p95 {p95} ms > 2 × {p95_1} ms"
    if level["missing_bursts"]:
        return f"{level['missing_bursts']} of {level['bursts']} bursts missing"
    if level["input_drop"] > INPUT_DROP_TOLERANCE:
        return f"input audio drop {level['input_drop']:.1%}"
    return None


async def ramp(
    stack: Stack,
    tap: Tap,
    agent: WorkerProc,
    levels: tuple[int, ...],
    window_s: float,
    call_every_s: float,
    budget_s: float,
) -> dict[str, Any]:
    mics = MicDriver()
    mics.start()
    sessions: list[BenchSession] = []
    results: list[dict[str, Any]] = []
    base = sample(agent.tree())
    await asyncio.sleep(IDLE_WINDOW_S)
    idle_cpu = cpu_pct(base, sample(agent.tree()), IDLE_WINDOW_S)
    stop_reason = None
    started = time.monotonic()
    try:
        for level in levels:
            if time.monotonic() - started > budget_s:
                stop_reason = f"time budget of {budget_s:.0f} s used"
                break
            if psutil.virtual_memory().available / 2**20 < MIN_AVAILABLE_MB:
                stop_reason = "memory nearly exhausted"
                break
            opened: list[float] = []
            try:
                while len(sessions) < level:
                    sessions.append(await open_session(stack, tap, agent, mics=mics, timeout=60.0))
                    opened.append(sessions[-1].greeting_ms)
            except TimeoutError as exc:
                stop_reason = f"could not open session {len(sessions) + 1}: {exc}"
                break
            for s in sessions:
                await s.participant.wait_quiet(0.5, timeout=20.0)
                s.participant.bursting = True
            settled = await agent.settle()  # the warm process replacing the ones just taken is up
            res = await measure_level(tap, sessions, mics, agent.tree(), window_s, call_every_s)
            res["pool_settle_s"] = settled
            res["rss_mb_per_session"] = round((res["rss_mb"] - base.rss_mb) / level, 1)
            res["pss_mb_per_session"] = round((res["pss_mb"] - base.pss_mb) / level, 1)
            res["cpu_pct_per_session"] = round(res["cpu_pct"] / level, 1)
            res["greeting_ms_of_new_sessions"] = summarize(opened)
            res["cpus_allowed_list"] = stack.pinning()["cpus_allowed_list"].get(f"worker {agent.label}")
            results.append(res)
            reason = _failed(res, results[0])
            if reason:
                stop_reason = f"{level} sessions: {reason}"
                break
    finally:
        await mics.stop()
        for s in sessions:
            await close_session(stack, s)
    passed = [r for r in results if _failed(r, results[0]) is None] if results else []
    last = passed[-1] if passed else None
    near_80 = min(passed, key=lambda r: abs(r["sessions"] - 0.8 * last["sessions"])) if last else None
    return {
        "at_80pct": {
            "sessions": near_80["sessions"],
            "greeting_ms_of_new_sessions": near_80["greeting_ms_of_new_sessions"],
        }
        if near_80
        else None,
        "max_sessions": last["sessions"] if last else 0,
        "rss_mb_per_session": last["rss_mb_per_session"] if last else None,
        "pss_mb_per_session": last["pss_mb_per_session"] if last else None,
        "cpu_pct_per_session": last["cpu_pct_per_session"] if last else None,
        "idle_rss_mb": round(base.rss_mb, 1),
        "idle_cpu_pct": round(idle_cpu, 1),
        "idle_pss_mb": round(base.pss_mb, 1),
        "levels": results,
        "stopped": stop_reason or "all levels passed",
    }


async def profile_at(
    stack: Stack, tap: Tap, agent: WorkerProc, n: int, seconds: float, out_dir: Path, call_every_s: float
) -> dict[str, Any]:
    """`n` sessions under the capacity load (bursts and tool calls) while py-spy records the worker."""
    from bench import profile

    mics = MicDriver()
    mics.start()
    sessions: list[BenchSession] = []
    rtts: list[float] = []
    callers: list[asyncio.Future[None]] = []
    try:
        for _ in range(n):
            sessions.append(await open_session(stack, tap, agent, mics=mics, timeout=60.0))
        for s in sessions:
            await s.participant.wait_quiet(0.5, timeout=20.0)
            s.participant.bursting = True
        await agent.settle()
        callers = [
            asyncio.ensure_future(caller(tap, s, call_every_s, i * call_every_s / n, rtts))
            for i, s in enumerate(sessions)
        ]
        assert agent.proc is not None
        return await asyncio.to_thread(
            profile.record, agent.proc.pid, agent.tree(), out_dir, agent.label, seconds, n
        )
    finally:
        for c in callers:
            c.cancel()
        await asyncio.gather(*callers, return_exceptions=True)
        await mics.stop()
        for s in sessions:
            await close_session(stack, s)


async def run(
    stack: Stack,
    tap: Tap,
    variants: dict[str, dict[str, str]],
    levels: tuple[int, ...],
    window_s: float,
    *,
    profile: tuple[str, ...] = (),
    profile_s: float = 20.0,
    out_dir: Path | None = None,
    call_every_s: float = 4.0,
    budget_s: float = 900.0,
) -> dict[str, Any]:
    """Ramp each variant (label -> extra worker env) in its own, freshly started worker, alone on the
    worker core; then profile the labels in `profile` at the capacity they reached."""
    out: dict[str, Any] = {}
    for label, env in variants.items():
        agent = stack.worker(label, extra_env=env)
        agent.start()
        stack.agents[f"capacity {label}"] = agent
        try:
            await agent.settle()  # the warm job processes finish starting
            out[label] = await ramp(stack, tap, agent, levels, window_s, call_every_s, budget_s)
            n = out[label]["max_sessions"]
            if label in profile and out_dir is not None and n > 0:
                out[label]["profile"] = await profile_at(
                    stack, tap, agent, n, profile_s, out_dir, call_every_s
                )
        finally:
            agent.stop()
            stack.agents.pop(f"capacity {label}", None)
    return out
