"""The worker's own process names the job's entrypoint without importing the session code; the
forkserver and the thread executor import it before the first dispatch."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from worker import job, server

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SESSION_ONLY = ("worker.session.flow", "worker.tools.mcp", "mcp")
"""Modules only a session uses (the MCP SDK among them)."""


def test_the_worker_process_does_not_import_the_session_code() -> None:
    probe = f"import sys, worker.server; print(' '.join(m for m in {SESSION_ONLY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.split() == [], f"imported by worker.server: {out.stdout}"


def test_the_forkserver_preloads_the_module_the_entrypoint_runs() -> None:
    assert server.PRELOADED_MODULES == [job.SESSION_MODULE]
    # livekit-agents pickles the entrypoint to its job processes: by reference, to this small module.
    assert pickle.loads(pickle.dumps(job.entrypoint)) is job.entrypoint
    session = __import__(job.SESSION_MODULE, fromlist=["entrypoint"])
    assert callable(session.entrypoint)
