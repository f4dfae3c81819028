"""CPU pinning for the capacity figures: the worker (every process it starts) on one core, everything
else (this process: the simulated users and the simulator thread; livekit-server) on the others.

Done with `sched_setaffinity`: the bench pins every thread of its own process at start, before it
starts livekit-server (children inherit the mask), and each worker is started pinned to the worker core
(`preexec` runs in the child before `exec`, so the worker's job processes inherit it too). What the
kernel actually allowed is read back from `/proc/PID/status` (`Cpus_allowed_list`) and recorded.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Cores:
    """The worker's core and the others."""

    worker: frozenset[int]
    rest: frozenset[int]

    @classmethod
    def split(cls) -> Cores:
        """The highest-numbered allowed CPU for the worker, the others for the rest (at least 2 CPUs)."""
        allowed = sorted(os.sched_getaffinity(0))
        if len(allowed) < 2:
            raise RuntimeError(f"pinning needs at least 2 CPUs, this process may use {allowed}")
        return cls(frozenset(allowed[-1:]), frozenset(allowed[:-1]))

    def pin_self(self) -> None:
        """Pin every thread of this process to `rest` (threads and children made later inherit it)."""
        for tid in os.listdir("/proc/self/task"):
            try:
                os.sched_setaffinity(int(tid), self.rest)
            except (ProcessLookupError, PermissionError):  # a thread that just ended
                continue

    def worker_preexec(self) -> Callable[[], None]:
        """For `subprocess.Popen(preexec_fn=...)`: the child pins itself to the worker core before exec."""
        cores = self.worker
        return lambda: os.sched_setaffinity(0, cores)


def pin_tree(pid: int, cpus: frozenset[int]) -> None:
    """Pin every thread of a running process and of its descendants (for a process started unpinned)."""
    import psutil

    root = psutil.Process(pid)
    for proc in [root, *root.children(recursive=True)]:
        for tid in os.listdir(f"/proc/{proc.pid}/task"):
            try:
                os.sched_setaffinity(int(tid), cpus)
            except (ProcessLookupError, PermissionError):
                continue


def allowed_list(pid: int) -> str | None:
    """`Cpus_allowed_list` of a process, as the kernel reports it (None: gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Cpus_allowed_list:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def check(pids: dict[str, list[int]]) -> dict[str, dict[str, int]]:
    """Per group of processes: how many have each `Cpus_allowed_list` (e.g. {"worker": {"1": 5}})."""
    out: dict[str, dict[str, int]] = {}
    for group, members in pids.items():
        counts: dict[str, int] = {}
        for pid in members:
            cpus = allowed_list(pid)
            if cpus is not None:
                counts[cpus] = counts.get(cpus, 0) + 1
        out[group] = counts
    return out
