"""The stack under test: livekit-server, the simulator in a thread of this process, worker processes.

The simulator runs here so that its records (`time.monotonic()`) share a clock with the participants;
CLOCK_MONOTONIC is also shared with child processes on Linux, which the reload figure relies on.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from livekit import api

from bench.pinning import Cores
from bench.roles import GREETING, ROLE
from tests.support.livekit_server import ROOT, LiveKitServer
from tests.support.simulator_thread import SimulatorThread
from worker.simulator import SimulatorConfig

REGISTERED = "registered worker"
POOL_STARTING = ("initializing process", "initializing job runner")
POOL_READY = ("process initialized", "job runner initialized")
"""livekit-agents' log records around starting a warm job process (or, thread executor, job runner)."""
BASELINE_IDLE_PROCESSES = math.ceil(psutil.cpu_count() or 1)
"""Warm job processes livekit-agents keeps by default under `start` (`num_idle_processes`: one per
CPU, `psutil.cpu_count()`); the baseline keeps its default, RoleCall is given the same."""


@dataclass
class WorkerProc:
    """One agent worker process (`start` mode, JSON logs). `start()` returns ms until registered."""

    label: str
    """`baseline`, or `rolecall` (and variants: `rolecall_chunk100`, `rolecall_live`, `baseline_live`)."""
    agent_name: str
    env: dict[str, str]
    log_path: Path
    preexec: Callable[[], None] | None = field(default=None, repr=False)
    """Run in the child before exec (pinning it: `bench.pinning.Cores.worker_preexec`)."""
    role: str = ROLE
    """The role a dispatch asks for (RoleCall; the baseline has one agent whatever it is asked)."""
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _log_offset: int = field(default=0, repr=False)

    def argv(self) -> list[str]:
        if self.label.startswith("rolecall"):
            return [sys.executable, "-m", "worker", "start", "--log-level", "INFO"]
        return [sys.executable, str(ROOT / "bench" / "baseline_agent.py"), "start", "--log-level", "INFO"]

    def start(self, timeout: float = 90.0) -> float:
        """Spawn and wait for the `registered worker` log record; return process start → registered, ms.

        The moment of registration is the log record's own timestamp when it has one (JSON logs),
        not when this poll saw it.
        """
        offset = self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it
        wall0, mono0 = time.time(), time.monotonic()
        self.proc = subprocess.Popen(
            self.argv(),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=self.preexec,  # only sched_setaffinity in the child: no locks taken
        )
        log.close()
        deadline = mono0 + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.label} worker exited with {self.proc.returncode}: {self.log_tail()}"
                )
            seen = time.monotonic()
            for line in self._read(offset).splitlines():
                if REGISTERED in line:
                    stamp = _log_time(line)
                    return ((stamp - wall0) if stamp is not None else (seen - mono0)) * 1000
            time.sleep(0.005)
        self.stop()
        raise RuntimeError(f"{self.label} worker did not register within {timeout}s: {self.log_tail()}")

    def pool_starting(self) -> int:
        """Warm job processes (or job runners) started and not yet initialized, from this run's log."""
        log = self._read(self._log_offset)
        started = sum(log.count(f'"message": "{m}"') for m in POOL_STARTING)
        return started - sum(log.count(f'"message": "{m}"') for m in POOL_READY)

    async def settle(self, timeout: float = 60.0, quiet_s: float = 1.5) -> float:
        """Wait until no warm job process is starting, for `quiet_s` in a row (livekit-agents starts a
        replacement right after a job takes one; its imports burn the worker's core for a second or
        two); return the seconds waited. A measuring window that overlaps a process start measures the
        start, not the sessions: the start's cost is paid once per session, not in every window."""
        t0 = time.monotonic()
        quiet_since: float | None = None
        while time.monotonic() - t0 < timeout:
            now = time.monotonic()
            if self.pool_starting() > 0:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= quiet_s:
                break
            await asyncio.sleep(0.1)
        return round(time.monotonic() - t0, 2)

    def _read(self, offset: int) -> str:
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def log_tail(self) -> str:
        return self._read(0)[-3000:] if self.log_path.exists() else ""

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def tree(self) -> list[psutil.Process]:
        """The worker and its job processes."""
        if self.proc is None:
            return []
        try:
            root = psutil.Process(self.proc.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []


def _log_time(line: str) -> float | None:
    """Unix time of a JSON log record (livekit-agents writes ISO 8601 `timestamp`), if it has one."""
    from datetime import datetime

    try:
        record = json.loads(line[line.index("{") :])
        return datetime.fromisoformat(str(record["timestamp"]).replace("Z", "+00:00")).timestamp()
    except (ValueError, KeyError, TypeError):
        return None


@dataclass
class Stack:
    """What every figure shares; `agents` holds one running worker per label."""

    livekit: LiveKitServer
    simulator: SimulatorThread
    roles_dir: Path
    work_dir: Path
    agents: dict[str, WorkerProc] = field(default_factory=dict)
    cores: Cores | None = None
    """How the worker is pinned apart from the rest (None: not pinned)."""

    @classmethod
    def start(cls, work_dir: Path, cores: Cores | None = None) -> Stack:
        """Start livekit-server and the simulator; with `cores`, this process (and so they) is pinned
        to `cores.rest` first, and workers will be pinned to `cores.worker`."""
        from bench.roles import write_roles_dir

        if cores is not None:
            cores.pin_self()
        work_dir.mkdir(parents=True, exist_ok=True)
        lk = LiveKitServer(log_path=work_dir / "livekit-server.log").start()
        sim = SimulatorThread(SimulatorConfig(port=0, speech="tone")).start()
        return cls(lk, sim, write_roles_dir(work_dir / "roles"), work_dir, cores=cores)

    def pinning(self) -> dict[str, Any]:
        """The CPUs each part may run on, read back from /proc (`Cpus_allowed_list`, per process)."""
        from bench.pinning import check

        groups = {f"worker {w.label}": [p.pid for p in w.tree()] for w in self.agents.values() if w.proc}
        groups["bench (users, simulator)"] = [os.getpid()]
        lk = getattr(self.livekit, "_proc", None)  # the test helper keeps its Popen private
        if lk is not None:
            groups["livekit-server"] = [
                lk.pid,
                *(c.pid for c in psutil.Process(lk.pid).children(recursive=True)),
            ]
        return {
            "worker_cpus": sorted(self.cores.worker) if self.cores else None,
            "other_cpus": sorted(self.cores.rest) if self.cores else None,
            "cpus_allowed_list": check(groups),
        }

    def worker(
        self,
        label: str,
        *,
        live_reload: bool = False,
        extra_env: dict[str, str] | None = None,
        role: str = ROLE,
    ) -> WorkerProc:
        """A (not yet started) worker of `label` with its own agent name, dispatched to `role`."""
        name = f"{label.replace('_', '-')}-bench-{uuid.uuid4().hex[:6]}"
        env = {
            **os.environ,
            **self.livekit.env(),
            "PYTHONUNBUFFERED": "1",
            "OPENAI_BASE_URL": self.simulator.sim.base_url,
            "OPENAI_API_KEY": "bench",
            "BENCH_GREETING": GREETING,
            "BASELINE_AGENT_NAME": name,
            "ROLECALL_AGENT_NAME": name,
            "ROLECALL_ROLES_DIR": str(self.roles_dir),
            "ROLECALL_HEALTH_PORT": "0",
            "ROLECALL_LIVE_RELOAD": "true" if live_reload else "false",
            "ROLECALL_DISCONNECT_GRACE_S": "1",
            # the bench measures capacity itself: the reported load must not hold dispatches back
            "ROLECALL_MAX_SESSIONS": "100000",
            # ... and the warm pool must not follow it (a fifth of 100000 is 20000 processes): as many
            # warm processes as livekit-agents keeps for the baseline here (its default: one per CPU)
            "ROLECALL_IDLE_PROCESSES": str(BASELINE_IDLE_PROCESSES),
            # session reports (and live events) stay in the run's folder, not in the checkout
            "ROLECALL_SPOOL_DIR": str(self.work_dir / "spool"),
            **(extra_env or {}),
        }
        preexec = self.cores.worker_preexec() if self.cores else None
        return WorkerProc(label, name, env, self.work_dir / f"{name}.log", preexec, role=role)

    async def dispatch(self, agent: WorkerProc, room: str, participant: str = "user") -> None:
        metadata = json.dumps({"role": agent.role, "participant": participant})
        async with self.livekit.api() as lk:
            await lk.agent_dispatch.create_dispatch(
                api.CreateAgentDispatchRequest(agent_name=agent.agent_name, room=room, metadata=metadata)
            )

    async def delete_room(self, room: str) -> None:
        async with self.livekit.api() as lk:
            await lk.room.delete_room(api.DeleteRoomRequest(room=room))

    def stop(self) -> None:
        for w in self.agents.values():
            w.stop()
        self.simulator.stop()
        self.livekit.stop()
