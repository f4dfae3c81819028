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
    """RSS and PSS summed over `procs` (from /proc/PID/smaps_rollup), and their CPU times."""
    rss = pss = 0
    cpu: dict[int, float] = {}
    for p in procs:
        try:
            mem = smaps_rollup(p.pid)
            t = p.cpu_times()
        except (psutil.Error, OSError):
            continue
        rss += mem.get("Rss", 0)
        pss += mem.get("Pss", 0)
        cpu[p.pid] = t.user + t.system
    return TreeSample(rss / 2**10, pss / 2**10, cpu, len(cpu))


def smaps_rollup(pid: int) -> dict[str, int]:
    """The kB fields of /proc/PID/smaps_rollup (Rss, Pss, ...): one read, unlike walking smaps."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                out[parts[0].rstrip(":")] = int(parts[1])
    return out


def cpu_pct(before: TreeSample, after: TreeSample, seconds: float) -> float:
    """CPU used between two samples in % of one core (processes born in between count from 0)."""
    used = sum(t - before.cpu_s.get(pid, 0.0) for pid, t in after.cpu_s.items())
    return 100 * used / seconds if seconds > 0 else 0.0
