"""The real stack for reliability tests, with its own LiveKit server (tests restart it) and known secrets.

livekit-server, the simulator, a worker (`dev`, DEBUG logs), the web backend, a tool backend and a
session-end webhook. Every secret has a distinctive value so that a test can scan every log and every
HTTP body for it. Each test module gets its own stack.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.browser.conftest import WebProcess
from tests.session.app_server import AppServer
from tests.session.bench_roles import SECOND_ROLE, bench_role
from tests.session.conftest import Stack
from tests.support.livekit_server import ROOT, LiveKitServer, free_port
from tests.support.simulator_thread import SimulatorThread
from tests.support.ui_participant import UIParticipant
from tests.support.worker_process import WorkerProcess
from worker.simulator import SimulatorConfig

LIVEKIT_SECRET = "lk-secret-RELIABILITY-5f0c2d9a8b7e6f1a3c4d"
OPENAI_KEY = "sk-secret-RELIABILITY-0d9e8f7a6b5c4d3e2f1a"
TOOL_SECRET = "tool-secret-RELIABILITY-1a2b3c4d5e6f7a8b"
WEBHOOK_SECRET = "hook-secret-RELIABILITY-9e8d7c6b5a4f3e2d"
# The web backend runs in api-key mode (the app's server calls POST /api/session with a key; two keys, as
# during a rotation); the JWT secret is for the jwt-mode web backend test_abuse starts beside it.
WEB_API_KEY = "web-api-key-RELIABILITY-7c6b5a4f3e2d1c0b9a8f"
WEB_API_KEY_OLD = "web-api-key-RELIABILITY-OLD-0a1b2c3d4e5f6a7b"
WEB_JWT_SECRET = "web-jwt-secret-RELIABILITY-2b3c4d5e6f7a8b9c"
SECRETS = {
    "LIVEKIT_API_SECRET": LIVEKIT_SECRET,
    "OPENAI_API_KEY": OPENAI_KEY,
    "ROLECALL_TOOL_SECRET": TOOL_SECRET,
    "ROLECALL_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "ROLECALL_WEB_API_KEYS": WEB_API_KEY,
    "ROLECALL_WEB_API_KEYS (old)": WEB_API_KEY_OLD,
    "ROLECALL_WEB_JWT_SECRET": WEB_JWT_SECRET,
}
WEB_ENV = {
    "ROLECALL_WEB_AUTH": "api-key",
    "ROLECALL_WEB_API_KEYS": f"{WEB_API_KEY},{WEB_API_KEY_OLD}",
}


@dataclass
class RelStack(Stack):
    """`tests.session`'s Stack plus the web backend, the webhook and what the tests saw over HTTP."""

    web: WebProcess | None = None
    hook: AppServer | None = None
    logs: list[Path] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)
    """Every HTTP response body a test received (scanned for secrets)."""

    # --- the session-end report ---------------------------------------------------------------

    def reports(self, room: str) -> list[dict[str, Any]]:
        assert self.hook is not None
        return [r.body for r in self.hook.received if isinstance(r.body, dict) and r.body.get("room") == room]

    async def report(self, room: str, timeout: float = 30.0) -> dict[str, Any]:
        """The signed webhook POST of the session in `room` (waits for it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.reports(room)
            if found:
                assert self.hook is not None
                assert all(r.signature_ok for r in self.hook.hook_attempts), "an unsigned webhook"
                return found[-1]
            await asyncio.sleep(0.1)
        raise AssertionError(f"no session report for {room} within {timeout}s")

    # --- the web backend ----------------------------------------------------------------------

    @property
    def web_url(self) -> str:
        assert self.web is not None
        return f"http://127.0.0.1:{self.web.port}"

    def http(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        """One request to the web backend; the body is kept for the secrets scan."""
        req = urllib.request.Request(self.web_url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=15) as resp:
                status, text = resp.status, resp.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode(errors="replace")
        self.bodies.append(text)
        return status, text

    # --- processes ------------------------------------------------------------------------------

    def job_processes(self) -> list[psutil.Process]:
        """The worker's child processes (idle and running job processes)."""
        assert self.worker.proc is not None
        return psutil.Process(self.worker.proc.pid).children(recursive=True)

    async def user(
        self, room: str, identity: str = "user", handlers: dict[str, Any] | None = None
    ) -> UIParticipant:
        return await UIParticipant(self.livekit, room, identity=identity, handlers=handlers or {}).join()


def agent_env(
    livekit: LiveKitServer, simulator: SimulatorThread, roles_dir: Path, agent_name: str, hook: AppServer
) -> dict[str, str]:
    return {
        **livekit.env(),
        "OPENAI_BASE_URL": simulator.sim.base_url,
        "OPENAI_API_KEY": OPENAI_KEY,
        "ROLECALL_AGENT_NAME": agent_name,
        "ROLECALL_ROLES_DIR": str(roles_dir),
        "ROLECALL_DISCONNECT_GRACE_S": "5",
        "ROLECALL_PARTICIPANT_TIMEOUT_S": "15",
        "ROLECALL_TOOL_SECRET": TOOL_SECRET,
        "ROLECALL_HTTP_PRIVATE_HOSTS": "127.0.0.1",  # the bench role's http tools post to the app on loopback
        "ROLECALL_WEBHOOK_URL": f"http://127.0.0.1:{hook.port}/hook",
        "ROLECALL_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "ROLECALL_SPOOL_DIR": str(roles_dir.parent / "spool"),
    }


def start_stack(tmp: Path, livekit: LiveKitServer, *, web: bool = True, speech: str = "tone") -> RelStack:
    roles_dir = tmp / "roles"
    shutil.copytree(ROOT / "roles", roles_dir)
    simulator = SimulatorThread(SimulatorConfig(port=0, speech=speech)).start()  # type: ignore[arg-type]
    app = AppServer(TOOL_SECRET)  # the http tools' backend: checks the tool signature
    hook = AppServer(WEBHOOK_SECRET)  # the session-end webhook: checks the webhook signature
    simulator.call(app.start())
    simulator.call(hook.start())
    role = bench_role(app.port).replace(
        "secret_env: TOOL_TEST_HTTP_SECRET", "secret_env: ROLECALL_TOOL_SECRET"
    )
    (roles_dir / "bench.yaml").write_text(role)
    (roles_dir / "bench-second.yaml").write_text(SECOND_ROLE)
    agent_name = f"rolecall-rel-{uuid.uuid4().hex[:6]}"
    env = agent_env(livekit, simulator, roles_dir, agent_name, hook)
    worker = WorkerProcess(env, tmp / "worker.log").start()
    stack = RelStack(
        livekit, simulator, worker, roles_dir, agent_name, app, hook=hook, logs=[tmp / "worker.log"]
    )
    if web:
        stack.web = WebProcess({**env, **WEB_ENV}, free_port(), tmp / "web.log").start()
        stack.logs.append(tmp / "web.log")
    return stack


def stop_stack(stack: RelStack) -> None:
    if stack.web is not None:
        stack.web.stop()
    stack.worker.stop()
    sim = stack.simulator
    sim.call(stack.app.stop())
    if stack.hook is not None:
        sim.call(stack.hook.stop())
    sim.stop()
    assert sim.sim.violations == [], f"simulator sent invalid events: {sim.sim.violations[:3]}"


@pytest.fixture(scope="module")
def own_livekit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveKitServer]:
    """A LiveKit server of this module alone (with a known secret), which tests may restart."""
    log = tmp_path_factory.mktemp("livekit") / "livekit-server.log"
    server = LiveKitServer(api_secret=LIVEKIT_SECRET, log_path=log).start()
    yield server
    server.stop(force=True)


@pytest.fixture(scope="module")
def rel(own_livekit: LiveKitServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelStack]:
    stack = start_stack(tmp_path_factory.mktemp("rel"), own_livekit)
    yield stack
    stop_stack(stack)


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process group we started."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=1)[:3000]
