"""`python -m bench [--quick] [--only FIGURES]`: run the figures, write bench/results/.

Order: the stack (livekit-server, the simulator in a thread), one RoleCall worker, one
RoleCall worker with livekit-agents' 100 ms input chunks, one baseline worker; then tool, audio, greeting,
reload, worker start; then, in workers of their own, live (the GPT-Live path: RoleCall and the baseline
on GPT-Live), events (live events off vs a slow receiver), input chunk and capacity. Each figure
alternates the agents (ABAB…) so machine noise hits both (capacity ramps one variant at a time).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import report
from bench.figures import audio, capacity, chunk, events, greeting, reload, start, tool
from bench.figures import live as gpt_live
from bench.pinning import Cores
from bench.session import BenchSession, close_session, open_session
from bench.stack import Stack, WorkerProc
from bench.tap import Tap
from tests.support.livekit_server import ROOT

FIGURES = ("tool", "audio", "greeting", "reload", "start", "live", "events", "chunk", "capacity")
CAPACITY_VARIANTS: dict[str, dict[str, str]] = {
    "rolecall": {},
    "baseline": {},
    "rolecall_thread": {"ROLECALL_JOB_EXECUTOR": "thread"},
    "baseline_thread": {"BASELINE_JOB_EXECUTOR": "thread"},
}
"""Capacity per worker core: RoleCall and the bare livekit-agents worker, each with livekit-agents'
process executor (the default) and its thread executor."""
CHUNK_VARIANT = "rolecall_chunk100"


@dataclass(frozen=True)
class Counts:
    tool: int
    audio: int
    block: int
    greeting: int
    reload_next: int
    reload_live: int
    start: int
    levels: tuple[int, ...]
    window_s: float
    chunk_sessions: int
    profile_s: float
    events_rounds: int
    """Sessions per worker in the events figure (one at a time, ABAB)."""
    events_window_s: float
    live: gpt_live.LiveCounts
    """The GPT-Live figure's counts: fewer than the Realtime figures' (each tool call waits for the
    spoken answer, and the whole figure runs after them)."""

    @classmethod
    def of(cls, quick: bool, samples: int | None) -> Counts:
        if quick:
            lv = gpt_live.LiveCounts(samples or 5, 5, samples or 10, 5, 3)
            return cls(samples or 10, samples or 10, 5, 3, 10, 3, 2, (1, 2, 3), 6.0, 2, 8.0, 3, 6.0, lv)
        n = samples or 200
        levels = (1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 32)
        lv = gpt_live.LiveCounts(samples or 40, 10, samples or 100, 20, 30)
        return cls(n, n, 20, 30, 100, 30, 10, levels, 15.0, 4, 20.0, 6, 15.0, lv)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    counts = Counts.of(args.quick, args.samples)
    if args.levels:
        counts = dataclasses.replace(counts, levels=tuple(int(x) for x in args.levels.split(",")))
    if args.window:
        counts = dataclasses.replace(counts, window_s=args.window)
    only = set(args.only.split(",")) if args.only else set(FIGURES)
    work = Path(tempfile.mkdtemp(prefix="rolecall-bench-"))
    print(f"bench: work dir {work} (logs)", flush=True)
    cores = None if args.no_pin else Cores.split()
    stack = Stack.start(work, cores)
    tap = Tap(stack.simulator.sim)
    results: dict[str, Any] = {"quick": args.quick, "counts": dataclasses.asdict(counts)}
    results["machine_before"] = machine_load()
    agents: dict[str, WorkerProc] = {}
    try:
        for label, env in (
            ("rolecall", {}),
            ("baseline", {}),
            (CHUNK_VARIANT, {"ROLECALL_AUDIO_INPUT_CHUNK_MS": "100"}),
        ):
            if label == CHUNK_VARIANT and "audio" not in only:
                continue
            w = stack.worker(label, extra_env=env)
            w.start()
            agents[label] = stack.agents[label] = w
        pair = {k: agents[k] for k in ("rolecall", "baseline")}

        if "tool" in only:
            _say("tool_roundtrip_ms")
            sessions = await _open_all(stack, tap, pair)
            results["tool_roundtrip_ms"] = await tool.run(stack, tap, sessions, counts.tool, counts.block)
            await _close_all(stack, sessions)
        if "audio" in only:
            _say("audio_in_ms / audio_out_ms")
            from bench.participant import MicDriver

            mics = MicDriver()
            mics.start()
            sessions = await _open_all(stack, tap, agents, mics=mics)
            results.update(await audio.run(tap, sessions, counts.audio, counts.block))
            await _close_all(stack, sessions, mics)
            await mics.stop()
        if "greeting" in only:
            _say("greeting_ms")
            results["greeting_ms"] = await greeting.run(stack, tap, pair, counts.greeting)
        if "reload" in only:
            _say("reload_ms")
            live = stack.worker("rolecall", live_reload=True)
            live.start()
            stack.agents["rolecall_live_reload"] = live
            s = await open_session(stack, tap, live)
            await s.participant.wait_quiet(0.5)
            results["reload_ms"] = await reload.run(
                tap, s, stack.roles_dir, counts.reload_next, counts.reload_live
            )
            await close_session(stack, s)
            live.stop()
        if "start" in only:
            _say("worker_start_ms")
            results["worker_start_ms"] = await asyncio.to_thread(
                start.run, stack, ("rolecall", "baseline"), counts.start
            )
        results["pinning"] = stack.pinning()  # the long-lived workers, while they run
        for w in list(agents.values()):  # live, events, chunk and capacity run their own workers alone
            w.stop()
        if "live" in only:
            _say("live (GPT-Live: tool_roundtrip_ms, audio_in_ms / audio_out_ms, greeting_ms)")
            results["live"] = await gpt_live.run(stack, tap, live_workers(stack), counts.live)
            for w in (stack.agents["rolecall_live"], stack.agents["baseline_live"]):
                w.stop()
        if "events" in only:
            _say("events (live events off vs a receiver taking 2 s per event)")
            results["events"] = await events.run(stack, tap, counts.events_rounds, counts.events_window_s)
        if "chunk" in only:
            _say("chunk (20/40/100 ms input chunks)")
            results["chunk"] = await chunk.run(stack, tap, counts.chunk_sessions, counts.window_s)
        if "capacity" in only:
            _say("capacity (pinned)")
            variants = {
                k: v
                for k, v in CAPACITY_VARIANTS.items()
                if not args.variants or k in args.variants.split(",")
            }
            results["capacity"] = await capacity.run(
                stack,
                tap,
                variants,
                counts.levels,
                counts.window_s,
                profile=("rolecall", "baseline"),
                profile_s=counts.profile_s,
                out_dir=args.out,
            )
    finally:
        stack.stop()
        results["machine_after"] = machine_load()
    return results


def live_workers(stack: Stack) -> dict[str, WorkerProc]:
    """RoleCall on the bench role's GPT-Live twin (a roles folder of its own) and the baseline on
    GPT-Live, started; keyed `rolecall` and `baseline` as in the Realtime figures."""
    from bench.roles import LIVE_ROLE, write_roles_dir

    roles = write_roles_dir(stack.work_dir / "roles-live", live=True)
    rc = stack.worker("rolecall_live", extra_env={"ROLECALL_ROLES_DIR": str(roles)}, role=LIVE_ROLE)
    base = stack.worker("baseline_live", extra_env={"BASELINE_API": "live"})
    for w in (rc, base):
        w.start()
        stack.agents[w.label] = w
    return {"rolecall": rc, "baseline": base}


async def _open_all(
    stack: Stack, tap: Tap, agents: dict[str, WorkerProc], **kw: Any
) -> dict[str, BenchSession]:
    return {label: await open_session(stack, tap, agent, **kw) for label, agent in agents.items()}


async def _close_all(stack: Stack, sessions: dict[str, BenchSession], mics: Any = None) -> None:
    for s in sessions.values():
        await close_session(stack, s, mics)


def machine_load() -> dict[str, Any]:
    """What else the machine was doing: load averages and the processes busy over half a second (other
    helpers' runs share these cores)."""
    import os

    import psutil

    procs = list(psutil.process_iter(["pid", "cmdline"]))
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.cpu_percent()
    time.sleep(0.5)
    busy = []
    for p in procs:
        with contextlib.suppress(psutil.Error):
            pct = p.cpu_percent()
            if pct >= 5.0:
                busy.append({"pid": p.pid, "cpu_pct": pct, "cmd": " ".join(p.info["cmdline"] or [])[:100]})
    busy.sort(key=lambda b: -float(b["cpu_pct"]))
    return {"loadavg": [round(x, 2) for x in os.getloadavg()], "busy_processes": busy[:8]}


def _say(figure: str) -> None:
    print(f"bench: {time.strftime('%H:%M:%S')} {figure}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sample counts (a smoke run)")
    parser.add_argument("--samples", type=int, default=None, help="samples per latency figure")
    parser.add_argument("--levels", default="", help="capacity levels, e.g. 1,5,10 (default by mode)")
    parser.add_argument("--window", type=float, default=None, help="seconds measured per capacity level")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(FIGURES)}")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the worker to its own core")
    parser.add_argument(
        "--variants", default="", help="capacity variants (default all): rolecall,baseline,..."
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="results folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    started = time.time()
    results = asyncio.run(main_async(args))
    results["duration_s"] = round(time.time() - started, 1)
    paths = report.write(results, args.out)
    for p in paths:
        print(f"bench: wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
