"""Soak: many concurrent sessions on loopback for a while, audio both ways and a tool call every few
seconds, then a report of errors, memory growth and leftover processes and tasks.

    python -m tests.reliability.soak --sessions 20 --minutes 10 --out bench/results/soak-latest.json

(`make soak`.) Each session loops: speak a clip (the simulator's VAD ends the turn and the agent
answers in audio), then call `show_card` by typed command and wait for the page's RPC and the model's
answer to its result. Everything it waits for has a deadline, so the run always ends. An *error* is a
turn whose answer or RPC did not come, an exception in a session, a session whose signed report did not
arrive or misses a turn or tool call, a simulator protocol violation, or an ERROR line in the worker log.
`tests/reliability/test_soak.py` runs a short version in `make test`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from livekit import rtc

from bench.pinning import Cores, pin_tree
from tests.session.app_server import AppServer
from tests.session.bench_roles import SECOND_ROLE, bench_role
from tests.support.livekit_server import ROOT, LiveKitServer
from tests.support.simulator_thread import SimulatorThread
from tests.support.ui_participant import SAMPLE_RATE, UIParticipant, _read_wav_24k
from tests.support.worker_process import WorkerProcess
from worker.simulator import SimulatorConfig

CLIP = ROOT / "roles" / "evals" / "clips" / "ready-for-timer.wav"
HOOK_SECRET = "soak-webhook-secret"
TURN_TIMEOUT_S = 25.0
MIC_FRAME_MS = 40
RAMP_S = 1.0
"""Seconds between session starts: users arrive one after another, and each arrival costs the worker
a job start (a process, by default) on top of the running sessions."""
USERS_PER_DRIVER = 5
"""Simulated users per driver process. The livekit rtc SDK hands every FFI event to every subscriber of
its process (each room, each audio stream, each pending request) through a Python filter, so one
process with 20 rooms spends most of a core on that alone (py-spy); five per process keep the load
generator small, and each driver has a GIL of its own."""
PROBE_EVERY = 4
"""Every 4th page decodes the agent's audio and times spoken replies by it; the others subscribe to it
without decoding (their answers are seen on the transcript stream), which keeps the load generator's
share of the two cores down without changing what the worker does."""
HARD_STOP_S = 120.0
"""A session still running this long after the soak's end is stopped (so the run always ends)."""


@dataclass
class SessionStats:
    room: str
    spoken_turns: int = 0
    tool_calls: int = 0
    errors: list[str] = field(default_factory=list)
    reply_s: list[float] = field(default_factory=list)
    """Spoken turn: end of the clip -> first agent audio after it (probe pages only)."""
    tool_s: list[float] = field(default_factory=list)
    """Typed /call -> the page's RPC handler runs."""


@dataclass
class Sample:
    at_s: float
    rss_mb: float
    """The worker's whole process tree."""
    processes: int


def tree(pid: int) -> list[psutil.Process]:
    main = psutil.Process(pid)
    return [main, *[p for p in main.children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE]]


def rss_mb(procs: list[psutil.Process]) -> float:
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return round(total / 2**20, 1)


class Mic:
    """A microphone track that plays silence, or the clip when asked."""

    def __init__(self, clip: np.ndarray) -> None:
        self.source = rtc.AudioSource(SAMPLE_RATE, 1)
        self.track = rtc.LocalAudioTrack.create_audio_track("mic", self.source)
        self.clip = clip
        self._speak: asyncio.Event = asyncio.Event()
        self.done = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        # 40 ms per capture call keeps the load generator's own CPU down (it shares the machine with
        # the worker); the worker receives the same 20 ms Opus packets either way.
        chunk = SAMPLE_RATE * MIC_FRAME_MS // 1000
        silence = np.zeros(chunk, dtype=np.int16)
        while not stop.is_set():
            if self._speak.is_set():
                self._speak.clear()
                for start in range(0, len(self.clip), chunk):
                    part = self.clip[start : start + chunk]
                    if len(part) < chunk:
                        part = np.pad(part, (0, chunk - len(part)))
                    await self.source.capture_frame(rtc.AudioFrame(part.tobytes(), SAMPLE_RATE, 1, chunk))
                self.done.set()
            else:
                await self.source.capture_frame(rtc.AudioFrame(silence.tobytes(), SAMPLE_RATE, 1, chunk))

    async def say(self) -> float:
        self.done.clear()
        self._speak.set()
        await asyncio.wait_for(self.done.wait(), 30)
        return time.monotonic()


async def run_session(
    n: int, livekit: LiveKitServer, agent_name: str, clip: np.ndarray, until: float
) -> SessionStats:
    from livekit import api

    room = f"soak-{n}-{uuid.uuid4().hex[:6]}"
    stats = SessionStats(room)
    meta = json.dumps({"role": "bench", "participant": "user"})
    async with livekit.api() as lk:
        await lk.agent_dispatch.create_dispatch(
            api.CreateAgentDispatchRequest(agent_name=agent_name, room=room, metadata=meta)
        )
    ui = UIParticipant(
        livekit,
        room,
        handlers={"show_card": lambda a: {"shown": a["title"]}},
        audio_frame_ms=50,
        decode_audio=n % PROBE_EVERY == 0,
    )
    mic_stop = asyncio.Event()
    mic_task: asyncio.Task[None] | None = None
    try:
        await ui.join()
        mic = Mic(clip)
        await ui.room.local_participant.publish_track(
            mic.track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        )
        mic_task = asyncio.create_task(mic.run(mic_stop))
        await ui.wait_for(lambda: "Hello" in ui.agent_text(), 60, "greeting")
        i = 0
        while time.monotonic() < until:
            i += 1
            # Spoken turn: the simulator's VAD commits it after the clip and answers in audio.
            before = len([t for t in ui.transcripts if t.speaker != ui.identity])
            ended = await mic.say()
            try:
                await ui.wait_for(
                    lambda b=before: len([t for t in ui.transcripts if t.speaker != ui.identity]) > b,
                    TURN_TIMEOUT_S,
                    "the answer to a spoken turn",
                )
                heard = [t for t in ui.audio_times if t > ended]
                if heard:
                    stats.reply_s.append(heard[0] - ended)
                stats.spoken_turns += 1
            except AssertionError:
                stats.errors.append(f"turn {i}: no answer to the spoken turn within {TURN_TIMEOUT_S:.0f} s")
            await asyncio.sleep(1.0)
            # Tool call.
            title = f"card {i}"
            sent = time.monotonic()
            await ui.say_text(f'/call show_card {{"title": "{title}"}}')
            try:
                await ui.wait_for(
                    lambda t=title: any(c.arguments.get("title") == t for c in ui.calls_to("show_card")),
                    TURN_TIMEOUT_S,
                    "RPC",
                )
                call = next(c for c in ui.calls_to("show_card") if c.arguments.get("title") == title)
                stats.tool_s.append(call.at - sent)
                await ui.wait_for(
                    lambda t=title: f'"shown": "{t}"' in ui.agent_text(), TURN_TIMEOUT_S, "tool answer"
                )
                stats.tool_calls += 1
            except AssertionError as exc:
                stats.errors.append(f"turn {i}: {str(exc)[:120]}")
            await asyncio.sleep(1.0)
    except Exception as exc:
        stats.errors.append(f"session failed: {type(exc).__name__}: {str(exc)[:200]}")
    finally:
        mic_stop.set()
        if mic_task is not None:
            await asyncio.gather(mic_task, return_exceptions=True)
        await ui.leave()
    return stats


@dataclass(frozen=True)
class DriverJob:
    """What one driver process needs: which sessions to run, where, and when (monotonic clock, shared by
    every process on the machine)."""

    sessions: list[int]
    livekit_port: int
    api_key: str
    api_secret: str
    agent_name: str
    start_at: float
    ramp_s: float
    until: float


def drive(job: DriverJob) -> list[SessionStats]:
    """In a driver process: run `job.sessions`, each starting at its turn of the ramp."""
    livekit = LiveKitServer(port=job.livekit_port, api_key=job.api_key, api_secret=job.api_secret)
    clip = _read_wav_24k(CLIP)

    async def one(n: int) -> SessionStats:
        await asyncio.sleep(max(0.0, job.start_at + n * job.ramp_s - time.monotonic()))
        try:
            async with asyncio.timeout(job.until + HARD_STOP_S - time.monotonic()):
                return await run_session(n, livekit, job.agent_name, clip, job.until)
        except TimeoutError:
            return SessionStats(
                f"soak-{n}", errors=[f"session {n} still running {HARD_STOP_S:.0f} s after the end"]
            )

    async def main() -> list[SessionStats]:
        return list(await asyncio.gather(*(one(n) for n in job.sessions)))

    return asyncio.run(main())


async def soak(
    sessions: int,
    minutes: float,
    workdir: Path,
    ramp_s: float = RAMP_S,
    worker_env: dict[str, str] | None = None,
    pin: bool = False,
) -> dict[str, Any]:
    cores = Cores.split() if pin else None
    if cores is not None:  # this process (the users' drivers, the simulator) and livekit-server: the rest
        cores.pin_self()
    livekit = LiveKitServer(log_path=workdir / "livekit.log").start()
    # Records off: a 10-minute, 20-session run would keep every event; only `violations` is read.
    simulator = SimulatorThread(SimulatorConfig(port=0, speech="tone", record=False)).start()
    hook = AppServer(HOOK_SECRET)
    simulator.call(hook.start())
    roles_dir = workdir / "roles"
    shutil.copytree(ROOT / "roles", roles_dir)
    (roles_dir / "bench.yaml").write_text(bench_role(hook.port))
    (roles_dir / "bench-second.yaml").write_text(SECOND_ROLE)
    agent_name = f"rolecall-soak-{uuid.uuid4().hex[:6]}"
    worker = WorkerProcess(
        {
            **livekit.env(),
            "OPENAI_BASE_URL": simulator.sim.base_url,
            "OPENAI_API_KEY": "",
            "ROLECALL_AGENT_NAME": agent_name,
            "ROLECALL_ROLES_DIR": str(roles_dir),
            "ROLECALL_MAX_SESSIONS": str(max(20, sessions)),
            "ROLECALL_DISCONNECT_GRACE_S": "2",
            "ROLECALL_PARTICIPANT_TIMEOUT_S": "30",
            "ROLECALL_LIVE_RELOAD": "false",
            "ROLECALL_HEALTH_PORT": "0",
            "TOOL_TEST_HTTP_SECRET": HOOK_SECRET,  # role files may reference TOOL_* names
            "ROLECALL_HTTP_PRIVATE_HOSTS": "127.0.0.1",  # the bench role's http tools post to loopback
            "ROLECALL_WEBHOOK_URL": f"http://127.0.0.1:{hook.port}/hook",
            "ROLECALL_WEBHOOK_SECRET": HOOK_SECRET,
            "ROLECALL_SPOOL_DIR": str(workdir / "spool"),
            **(worker_env or {}),
        },
        workdir / "worker.log",
        mode="start",
    )
    result: dict[str, Any] = {
        "sessions": sessions,
        "minutes": minutes,
        "ramp_s": ramp_s,
        "driver_processes": max(1, -(-sessions // USERS_PER_DRIVER)),
        "worker_env": worker_env or {},
        "worker_cpus": sorted(cores.worker) if cores else None,
    }
    try:
        worker.start()
        assert worker.proc is not None
        pid = worker.proc.pid
        if cores is not None:  # the worker and the processes it has started; later ones inherit it
            pin_tree(pid, cores.worker)
        await asyncio.sleep(3)  # the idle job process starts
        procs_before = len(tree(pid))
        threads_before = psutil.Process(pid).num_threads()
        rss_before = rss_mb(tree(pid))
        tasks_before = len(asyncio.all_tasks())
        sim_tasks_before = simulator.call(_task_count())
        started = time.monotonic()
        until = started + minutes * 60
        drivers = max(1, -(-sessions // USERS_PER_DRIVER))
        jobs = [
            DriverJob(
                list(range(d, sessions, drivers)),
                livekit.port,
                livekit.api_key,
                livekit.api_secret,
                agent_name,
                started + 2.0,  # the driver processes start first
                ramp_s,
                until,
            )
            for d in range(drivers)
        ]
        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor(drivers, mp_context=multiprocessing.get_context("spawn")) as pool:
            tasks = [loop.run_in_executor(pool, drive, job) for job in jobs]
            samples: list[Sample] = []
            cpu_s: dict[int, float] = {}
            while not all(t.done() for t in tasks):
                procs = tree(pid)
                for proc in procs:
                    with contextlib.suppress(psutil.Error):
                        times = proc.cpu_times()
                        cpu_s[proc.pid] = times.user + times.system
                samples.append(Sample(round(time.monotonic() - started, 1), rss_mb(procs), len(procs)))
                await asyncio.wait(tasks, timeout=5)
            results = [t.result() for t in tasks]
        stats: list[SessionStats] = sorted(
            (x for group in results for x in group), key=lambda x: int(x.room.split("-")[1])
        )
        # Every session's signed report, with all its turns and tool calls.
        reports = await _reports(hook, [s.room for s in stats], timeout=60)
        for s in stats:
            report = reports.get(s.room)
            if report is None:
                s.errors.append("no session report")
                continue
            calls = [c for c in report["tool_calls"] if c["name"] == "show_card" and c["outcome"] == "ok"]
            if len(calls) < s.tool_calls:
                s.errors.append(f"report has {len(calls)} of {s.tool_calls} tool calls")
            agent_lines = [t for t in report["transcript"] if t["speaker"] == "agent"]
            if len(agent_lines) < s.spoken_turns + s.tool_calls:
                s.errors.append(
                    f"report has {len(agent_lines)} agent lines for {s.spoken_turns + s.tool_calls} answers"
                )

        # Back to idle: job processes exit, the connections sessions used close and their tasks end (idle
        # job processes keep their pre-opened ones open: `Simulator.in_use`).
        settle_deadline = time.monotonic() + 60
        while time.monotonic() < settle_deadline and (
            len(tree(pid)) > procs_before
            or simulator.sim.in_use()
            or simulator.call(_task_count()) > sim_tasks_before
        ):
            await asyncio.sleep(0.5)
        await asyncio.sleep(1)
        procs_after = len(tree(pid))
        log_errors = [
            line[:300]
            for line in worker.log().splitlines()
            if '"level": "ERROR"' in line or " ERROR " in line
        ]
        result.update(
            {
                "duration_s": round(time.monotonic() - started, 1),
                "spoken_turns": sum(s.spoken_turns for s in stats),
                "tool_calls": sum(s.tool_calls for s in stats),
                "errors": sum(len(s.errors) for s in stats) + len(log_errors) + len(simulator.sim.violations),
                "session_errors": {s.room: s.errors for s in stats if s.errors},
                "worker_log_errors": log_errors[:20],
                "simulator_violations": len(simulator.sim.violations),
                "reply_s": _summary([x for s in stats for x in s.reply_s]),
                "tool_rpc_s": _summary([x for s in stats for x in s.tool_s]),
                "worker_rss_mb": {
                    "idle_before": rss_before,
                    "first_sample": samples[0].rss_mb if samples else None,
                    "peak": max((x.rss_mb for x in samples), default=None),
                    "last_sample": samples[-1].rss_mb if samples else None,
                    "idle_after": rss_mb(tree(pid)),
                },
                "worker_cpu_pct": round(100 * sum(cpu_s.values()) / max(1e-9, time.monotonic() - started), 1),
                "load_average": [round(x, 2) for x in psutil.getloadavg()],
                "worker_processes": {
                    "before": procs_before,
                    "peak": max((x.processes for x in samples), default=None),
                    "after": procs_after,
                },
                "worker_threads": {"before": threads_before, "after": psutil.Process(pid).num_threads()},
                "driver_asyncio_tasks": {"before": tasks_before, "after": len(asyncio.all_tasks())},
                "simulator_tasks": {"before": sim_tasks_before, "after": simulator.call(_task_count())},
                "simulator_open_connections_after": len(simulator.sim.connections),
                # Connections a session used and left open (idle job processes keep pre-opened ones).
                "simulator_connections_in_use_after": len(simulator.sim.in_use()),
                "samples": [asdict(x) for x in samples],
            }
        )
    finally:
        worker.stop()
        simulator.call(hook.stop())
        simulator.stop()
        livekit.stop(force=True)
    return result


async def _task_count() -> int:
    """The simulator thread's tasks, but for this one and the report hook's HTTP keep-alive connections
    (aiohttp's `RequestHandler.start`, which end when the worker's client lets them idle out)."""
    return sum(
        1
        for t in asyncio.all_tasks()
        if t is not asyncio.current_task()
        and getattr(t.get_coro(), "__qualname__", "") != "RequestHandler.start"
    )


async def _reports(hook: AppServer, rooms: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        found = {
            r.body["room"]: r.body for r in hook.received if r.path == "/hook" and isinstance(r.body, dict)
        }
        if set(rooms) <= set(found) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.5)


def _summary(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "median": None, "p95": None, "max": None}
    ordered = sorted(values)
    return {
        "n": len(values),
        "median": round(statistics.median(ordered), 3),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
        "max": round(ordered[-1], 3),
    }


def summary_text(r: dict[str, Any]) -> str:
    rss = r["worker_rss_mb"]
    return "\n".join(
        [
            f"soak: {r['sessions']} sessions for {r['minutes']} min ({r['duration_s']} s): "
            f"{r['spoken_turns']} spoken turns, {r['tool_calls']} tool calls, {r['errors']} errors",
            f"  worker RSS (MB): idle {rss['idle_before']} -> first sample {rss['first_sample']} -> peak {rss['peak']} "
            f"-> last sample {rss['last_sample']} -> idle after {rss['idle_after']}",
            f"  worker CPU {r['worker_cpu_pct']}% of one core over the run (sampled every 5 s); "
            f"load average at the end {r['load_average']}",
            f"  worker processes: {r['worker_processes']}; threads: {r['worker_threads']}",
            f"  driver asyncio tasks: {r['driver_asyncio_tasks']}; simulator tasks: {r['simulator_tasks']}, "
            f"open connections after: {r['simulator_open_connections_after']} "
            f"({r['simulator_connections_in_use_after']} used by a session)",
            f"  spoken turn -> agent audio (s): {r['reply_s']}; /call -> RPC (s): {r['tool_rpc_s']}",
            *(f"  error: {room}: {errs}" for room, errs in r["session_errors"].items()),
            *(f"  worker log: {line}" for line in r["worker_log_errors"]),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.reliability.soak", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--ramp", type=float, default=RAMP_S, help="seconds between session starts")
    parser.add_argument(
        "--executor", choices=("process", "thread"), default=None, help="ROLECALL_JOB_EXECUTOR for the worker"
    )
    parser.add_argument(
        "--pin", action="store_true", help="worker on one core, everything else on the others"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "soak-latest.json")
    parser.add_argument(
        "--keep", type=Path, default=None, help="keep the logs (worker, livekit-server) in this new folder"
    )
    args = parser.parse_args(argv)
    env = {"ROLECALL_JOB_EXECUTOR": args.executor} if args.executor else {}
    if args.keep is not None:
        args.keep.mkdir(parents=True)
        result = asyncio.run(soak(args.sessions, args.minutes, args.keep, args.ramp, env, args.pin))
    else:
        with tempfile.TemporaryDirectory(prefix="rolecall-soak-") as tmp:
            result = asyncio.run(soak(args.sessions, args.minutes, Path(tmp), args.ramp, env, args.pin))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(summary_text(result))
    print(f"written to {args.out}")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
