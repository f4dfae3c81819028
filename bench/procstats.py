"""CPU and memory of process trees, via psutil."""

from __future__ import annotations

from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class TreeSample:
    rss_mb: float
    pss_mb: float
    """Proportional set size: shared pages (forked job processes share the interpreter) split fairly."""
    cpu_s: dict[int, float]
    """CPU seconds (user + system) per pid."""
    processes: int


def sample(procs: list[psutil.Process]) -> TreeSample:
    rss = pss = 0
    cpu: dict[int, float] = {}
    for p in procs:
        try:
            with p.oneshot():
                mem = p.memory_full_info()
                rss += mem.rss
                pss += getattr(mem, "pss", mem.rss)
                t = p.cpu_times()
                cpu[p.pid] = t.user + t.system
        except psutil.Error:
            continue
    return TreeSample(rss / 2**20, pss / 2**20, cpu, len(cpu))


def cpu_pct(before: TreeSample, after: TreeSample, seconds: float) -> float:
    """CPU used between two samples in % of one core (processes born in between count from 0)."""
    used = sum(t - before.cpu_s.get(pid, 0.0) for pid, t in after.cpu_s.items())
    return 100 * used / seconds if seconds > 0 else 0.0
