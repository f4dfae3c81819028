"""Where a session's CPU goes: py-spy over the worker's process tree, split by whose code burns it.

Two sources over the same window. Per-thread CPU from `/proc/PID/task/TID/stat` splits native threads
(the livekit FFI's Rust and WebRTC threads, which name themselves: `tokio-runtime-w`, `worker_thread`,
...) from Python threads (they keep the process's name). py-spy's raw (collapsed) stacks of the Python
threads (only samples holding the GIL: running Python code) are then attributed leaf first to the
innermost frame that belongs to a known owner: RoleCall (`worker/`), livekit-agents (`livekit/agents`,
`livekit/plugins`), the FFI's Python side (`livekit/rtc`); a stack with none of them (the asyncio loop
itself, aiohttp, ...) is `other`. `py-spy record` needs
ptrace (root, or CAP_SYS_PTRACE); it samples without pausing the worker (`--nonblocking`) and runs on
the bench's cores, not the worker's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psutil

LIBRARIES = (
    ("livekit_agents", ("livekit/agents/", "livekit/plugins/")),
    ("livekit_rtc_python", ("livekit/rtc/",)),
)
"""Installed packages with an owner of their own, by path fragment."""


def py_spy() -> str:
    """The py-spy executable next to this interpreter (the bench extra), or on PATH."""
    local = Path(sys.executable).with_name("py-spy")
    found = str(local) if local.exists() else shutil.which("py-spy")
    if not found:
        raise RuntimeError("py-spy is not installed: pip install -c constraints.txt py-spy==0.4.3")
    return found


_FRAME = re.compile(r" \((?P<path>[^()]+):\d+\)$")
"""A Python frame in py-spy's raw output: `function (path:line)`. The frames py-spy adds for
`--subprocesses` (`process PID:"command line"`) and `--threads` are not code and match nothing."""


def owner_of(frame: str) -> str | None:
    """The owner of one py-spy frame (`function (/full/path/file.py:line)`, from `--full-filenames`):
    `rolecall` for the worker's code (or the baseline agent's own file), a `LIBRARIES` name, or None
    for any other code (the standard library, other packages) and for frames that are not code."""
    m = _FRAME.search(frame)
    if m is None:
        return None
    path = m["path"]
    if "site-packages" in path or "/lib/python" in path:
        return next((name for name, parts in LIBRARIES if any(p in path for p in parts)), None)
    if "/worker/" in path or path.endswith("/bench/baseline_agent.py"):
        return "rolecall"
    return None


def split_samples(raw: str) -> Counter[str]:
    """Samples per owner from py-spy's raw output (`frame;frame;...;leaf COUNT` per line)."""
    out: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        owner = "other"
        for frame in reversed(stack.split(";")):
            found = owner_of(frame)
            if found is not None:
                owner = found
                break
        out[owner] += int(count)
    return out


def thread_cpu(procs: list[psutil.Process]) -> dict[tuple[int, int], tuple[str, float]]:
    """(pid, tid) -> (thread name, CPU seconds) for every thread of `procs`."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[tuple[int, int], tuple[str, float]] = {}
    for p in procs:
        try:
            tids = os.listdir(f"/proc/{p.pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                stat = Path(f"/proc/{p.pid}/task/{tid}/stat").read_text()
            except OSError:
                continue
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            out[(p.pid, int(tid))] = (name, (int(fields[11]) + int(fields[12])) / tick)
    return out


def native_python_split(
    before: dict[tuple[int, int], tuple[str, float]], after: dict[tuple[int, int], tuple[str, float]]
) -> tuple[float, float]:
    """CPU seconds of (Python threads, native threads) between two `thread_cpu` readings: a thread named
    like its process's main thread (tid == pid) is a Python thread, any other name a native one."""
    main = {pid: name for (pid, tid), (name, _) in after.items() if pid == tid}
    python = native = 0.0
    for key, (name, cpu) in after.items():
        used = cpu - before.get(key, (name, 0.0))[1]
        if name == main.get(key[0]):
            python += used
        else:
            native += used
    return python, native


def record(
    root_pid: int, tree: list[psutil.Process], out_dir: Path, label: str, seconds: float, sessions: int
) -> dict[str, Any]:
    """Profile the tree of `root_pid` for `seconds` (raw stacks and a flame graph, both kept in
    `out_dir`), and return the CPU split per session in % of one core."""
    out_dir.mkdir(parents=True, exist_ok=True)
    raw_path, svg_path = out_dir / f"profile-{label}.txt", out_dir / f"profile-{label}.svg"
    base = [py_spy(), "record", "--pid", str(root_pid), "--subprocesses", "--nonblocking", "--rate", "100"]
    # full paths: py-spy otherwise shortens them to the package part (`livekit/agents/...`, no
    # `site-packages`), and the split needs to tell installed packages from the checkout's code
    base += ["--full-filenames", "--duration", str(max(1, round(seconds)))]
    # only samples holding the GIL: on the busy worker core a thread just woken from epoll or a
    # Condition.wait is runnable for a while, and py-spy's idle filter counts it as working (without
    # this, most samples of the first --quick run had such a wait as their leaf); Python code runs
    # with the GIL held
    base += ["--gil"]
    before, t0 = thread_cpu(tree), time.monotonic()
    runs = [
        subprocess.Popen(
            [*base, "--format", fmt, "-o", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        for fmt, path in (("raw", raw_path), ("flamegraph", svg_path))
    ]
    try:
        errors = [run.communicate(timeout=seconds + 120)[1].decode(errors="replace") for run in runs]
    finally:
        for run in runs:  # only when communicate timed out (or was interrupted): no py-spy left behind
            if run.poll() is None:
                run.kill()
                run.wait()
    after, elapsed = thread_cpu(tree), time.monotonic() - t0
    if any(r.returncode for r in runs):
        return {"error": "py-spy failed: " + " | ".join(e.strip()[-300:] for e in errors)}
    samples = split_samples(raw_path.read_text())
    python_s, native_s = native_python_split(before, after)
    total = sum(samples.values()) or 1
    per_session = 100 / elapsed / max(1, sessions)
    split = {k: round(python_s * n / total * per_session, 2) for k, n in samples.most_common()}
    split["ffi_native_threads"] = round(native_s * per_session, 2)
    return {
        "sessions": sessions,
        "seconds": round(elapsed, 1),
        "cpu_pct_per_session": split,
        "cpu_pct_per_session_total": round((python_s + native_s) * per_session, 2),
        "python_samples": dict(samples),
        "flamegraph": svg_path.name,
        "raw": raw_path.name,
    }
