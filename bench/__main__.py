"""`python -m bench [--quick] [--only FIGURES]`: run the figures, write bench/results/.

Order: the stack (livekit-server, the simulator in a thread), one RoleCall worker, one
RoleCall worker with livekit-agents' 100 ms input chunks, one baseline worker; then tool, audio, greeting,
reload, worker start, capacity. Each figure alternates the agents (ABAB…) so machine noise hits both.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import report
from bench.figures import audio, capacity, greeting, reload, start, tool
from bench.session import BenchSession, close_session, open_session
from bench.stack import Stack, WorkerProc
from bench.tap import Tap
from tests.support.livekit_server import ROOT

FIGURES = ("tool", "audio", "greeting", "reload", "start", "capacity")
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

    @classmethod
    def of(cls, quick: bool, samples: int | None) -> Counts:
        if quick:
            return cls(samples or 10, samples or 10, 5, 3, 10, 3, 2, (1, 3), 6.0)
        n = samples or 200
        return cls(n, n, 20, 30, 100, 30, 10, (1, 5, 10, 20, 40), 20.0)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    counts = Counts.of(args.quick, args.samples)
    if args.levels:
        counts = dataclasses.replace(counts, levels=tuple(int(x) for x in args.levels.split(",")))
    if args.window:
        counts = dataclasses.replace(counts, window_s=args.window)
    only = set(args.only.split(",")) if args.only else set(FIGURES)
    work = Path(tempfile.mkdtemp(prefix="rolecall-bench-"))
    print(f"bench: work dir {work} (logs)", flush=True)
    stack = Stack.start(work)
    tap = Tap(stack.simulator.sim)
    results: dict[str, Any] = {"quick": args.quick, "counts": vars(counts) | {"levels": list(counts.levels)}}
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
        if "capacity" in only:
            _say("capacity")
            results["capacity"] = await capacity.run(stack, tap, pair, counts.levels, counts.window_s)
    finally:
        stack.stop()
    return results


async def _open_all(
    stack: Stack, tap: Tap, agents: dict[str, WorkerProc], **kw: Any
) -> dict[str, BenchSession]:
    return {label: await open_session(stack, tap, agent, **kw) for label, agent in agents.items()}


async def _close_all(stack: Stack, sessions: dict[str, BenchSession], mics: Any = None) -> None:
    for s in sessions.values():
        await close_session(stack, s, mics)


def _say(figure: str) -> None:
    print(f"bench: {time.strftime('%H:%M:%S')} {figure}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sample counts (a smoke run)")
    parser.add_argument("--samples", type=int, default=None, help="samples per latency figure")
    parser.add_argument("--levels", default="", help="capacity levels, e.g. 1,5,10 (default by mode)")
    parser.add_argument("--window", type=float, default=None, help="seconds measured per capacity level")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(FIGURES)}")
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
