"""The bench's view of a worker's warm pool: job processes started and not yet ready, from its log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.stack import WorkerProc

pytestmark = pytest.mark.unit


def _record(message: str) -> str:
    return json.dumps({"message": message, "level": "INFO", "name": "livekit.agents", "pid": 7}) + "\n"


def test_pool_starting_counts_this_runs_records_only(tmp_path: Path) -> None:
    log = tmp_path / "w.log"
    log.write_text(_record("initializing process") * 3)  # an earlier run of the same label
    w = WorkerProc("rolecall", "rolecall-bench-x", {}, log)
    w._log_offset = log.stat().st_size  # what start() records before spawning
    assert w.pool_starting() == 0
    with log.open("a") as f:
        f.write(_record("initializing process") * 2 + _record("process initialized"))
    assert w.pool_starting() == 1
    with log.open("a") as f:
        f.write(_record("process initialized") + _record("initializing processes of another kind"))
    assert w.pool_starting() == 0


def test_pool_starting_thread_executor(tmp_path: Path) -> None:
    log = tmp_path / "w.log"
    log.write_text(_record("initializing job runner") * 2 + _record("job runner initialized"))
    assert WorkerProc("baseline_thread", "b", {}, log).pool_starting() == 1
