"""`reload_ms` (RoleCall only; the baseline has no reload: n/a).

next_session: the role file is saved (the moment `write_text` returns) → a warm `RoleRegistry` in
another process (`bench.reload_probe`, polling `get` every 1 ms as each new job does) returns the
new version. live_session: saved → the `session.update` carrying the new instructions arrives at the
simulator from a live session of a worker with `ROLECALL_LIVE_RELOAD=true`.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.roles import ROLE, role_text
from bench.session import BenchSession
from bench.stats import summarize
from bench.tap import Tap
from tests.support.livekit_server import ROOT


def _save(roles_dir: Path, version: int) -> float:
    (roles_dir / f"{ROLE}.yaml").write_text(role_text(version))
    return time.monotonic()


async def next_session(roles_dir: Path, n: int, first_version: int) -> tuple[list[float], int]:
    probe = subprocess.Popen(  # noqa: ASYNC220 - spawned once, before anything is timed
        [sys.executable, "-m", "bench.reload_probe", str(roles_dir)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert probe.stdin is not None and probe.stdout is not None
    samples: list[float] = []
    failures = 0
    try:
        if (await asyncio.to_thread(probe.stdout.readline)).strip() != "ready":
            raise RuntimeError("reload probe did not start")
        for i in range(n):
            version = first_version + i
            probe.stdin.write(f"{version}\n")
            probe.stdin.flush()
            await asyncio.sleep(0.05)  # the probe is polling the old version
            saved = _save(roles_dir, version)
            line = (await asyncio.to_thread(probe.stdout.readline)).strip()
            if line == "timeout" or not line:
                failures += 1
            else:
                samples.append((float(line) - saved) * 1000)
            await asyncio.sleep(0.1)
    finally:
        probe.kill()
        probe.wait()
    return samples, failures


async def live_session(
    tap: Tap, s: BenchSession, roles_dir: Path, n: int, first_version: int
) -> tuple[list[float], int]:
    samples: list[float] = []
    failures = 0
    for i in range(n):
        version = first_version + i
        marker = f"version {version}."
        saved = _save(roles_dir, version)
        deadline = saved + 10
        hit = None
        while hit is None and time.monotonic() < deadline:
            tap.poll()
            hit = next(
                (
                    at
                    for conn, at, text in tap.session_updates
                    if conn == s.conn and marker in text and at >= saved
                ),
                None,
            )
            await asyncio.sleep(0.005)
        if hit is None:
            failures += 1
        else:
            samples.append((hit - saved) * 1000)
        await asyncio.sleep(0.3)
    return samples, failures


async def run(tap: Tap, s: BenchSession | None, roles_dir: Path, n_next: int, n_live: int) -> dict[str, Any]:
    nxt, nxt_fail = await next_session(roles_dir, n_next, first_version=1000)
    out: dict[str, Any] = {
        "next_session": {"rolecall": {**summarize(nxt), "failures": nxt_fail}, "baseline": "n/a"},
        "_samples": {"next_session": nxt},
    }
    if s is not None:
        live, live_fail = await live_session(tap, s, roles_dir, n_live, first_version=2000)
        out["live_session"] = {"rolecall": {**summarize(live), "failures": live_fail}, "baseline": "n/a"}
        out["_samples"]["live_session"] = live
    _save(roles_dir, 0)
    return out
