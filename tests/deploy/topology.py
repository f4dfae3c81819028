"""The docker-compose topology as local processes: one LiveKit server, N workers under `start`, the web
backend, the simulator; and a page that starts sessions through the web API like the demo does.

Used by `tests/deploy/test_topology.py` and `bench/redispatch_wait.py`.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from livekit import api

from tests.session.app_server import AppServer
from tests.support.livekit_server import ROOT, LiveKitServer, free_port
from tests.support.simulator_thread import SimulatorThread
from tests.support.ui_participant import UIParticipant
from tests.support.worker_process import WebProcess, WorkerProcess
from worker.simulator import SimulatorConfig

TOOL_SECRET = "deploy-test-tool-secret"
WEBHOOK_SECRET = "deploy-test-webhook-secret"


def http_get(url: str, timeout: float = 3.0) -> tuple[int, Any]:
    """Status and JSON body of a GET (an HTTP error status is returned, not raised)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def http_post(url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST", headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@dataclass
class Worker:
    """One `python -m worker start` process with its own health port."""

    name: str
    env: dict[str, str]
    log_path: Path
    health_port: int = 0
    """Picked when first started (a port chosen long before is more likely to be taken by then)."""
    process: WorkerProcess | None = None

    def start(self) -> Worker:
        # A restarted worker gets a fresh log, so log checks see only this run.
        self.log_path.unlink(missing_ok=True)
        self.health_port = self.health_port or free_port()
        env = {**self.env, "ROLECALL_HEALTH_PORT": str(self.health_port)}
        self.process = WorkerProcess(env, self.log_path, mode="start").start(timeout=120)
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.proc is not None and self.process.proc.poll() is None

    @property
    def pid(self) -> int:
        assert self.process is not None and self.process.proc is not None
        return self.process.proc.pid

    def health(self) -> tuple[int, Any]:
        return http_get(f"http://127.0.0.1:{self.health_port}/")

    def active_sessions(self) -> int:
        return int(self.health()[1]["active_sessions"])

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def reported_available(self) -> bool:
        """False while the worker's last capacity message to LiveKit was "full"."""
        log = self.log()
        return log.rfind("marking as available") >= log.rfind("marking as unavailable")

    def sigterm(self) -> None:
        os.kill(self.pid, signal.SIGTERM)  # what `docker compose stop` sends to the container's process

    def sigkill(self) -> None:
        # The whole process group, like a container that is killed: main process and job processes.
        os.killpg(self.pid, signal.SIGKILL)
        assert self.process is not None and self.process.proc is not None
        self.process.proc.wait()

    def wait_exit(self, timeout: float) -> int:
        assert self.process is not None and self.process.proc is not None
        return self.process.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


@dataclass
class Session:
    """A page's session: the web API's answer and the participant that joined with its token."""

    info: dict[str, Any]
    ui: UIParticipant

    @property
    def token(self) -> str:
        return str(self.info["token"])

    @property
    def room(self) -> str:
        return str(self.info["room"])


class Topology:
    """Start with `start()`; `stop()` ends everything. Not thread-safe; one per test module."""

    def __init__(
        self,
        livekit: LiveKitServer,
        workdir: Path,
        *,
        workers: int = 2,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.livekit = livekit
        self.workdir = workdir
        self.agent_name = f"rolecall-deploy-{uuid.uuid4().hex[:6]}"
        self.roles_dir = workdir / "roles"
        shutil.copytree(ROOT / "roles", self.roles_dir, dirs_exist_ok=True)
        self.simulator = SimulatorThread(SimulatorConfig(port=0, speech="tone"))
        self.web_port = free_port()
        self.web: WebProcess | None = None
        self.hook = AppServer(WEBHOOK_SECRET)
        """The app backend's session-end webhook: every worker's reports arrive here."""
        self.env = {
            **livekit.env(),
            "ROLECALL_AGENT_NAME": self.agent_name,
            # One warm job process per worker: two workers on two cores start and register sooner.
            "ROLECALL_IDLE_PROCESSES": "1",
            "ROLECALL_ROLES_DIR": str(self.roles_dir),
            "ROLECALL_TOOL_SECRET": TOOL_SECRET,
            "ROLECALL_SPOOL_DIR": str(workdir / "spool"),  # one spool for all the workers, as in compose
            "OPENAI_API_KEY": "",
            # Every page here is one client (127.0.0.1) opening sessions back to back: no per-client rate.
            "ROLECALL_WEB_SESSIONS_PER_MINUTE": "0",
            **(extra_env or {}),
        }
        self.workers = [Worker(f"w{i + 1}", {}, workdir / f"worker-{i + 1}.log") for i in range(workers)]

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start(self) -> Topology:
        self.simulator.start()
        self.simulator.call(self.hook.start())
        self.env["OPENAI_BASE_URL"] = self.simulator.sim.base_url
        self.env["ROLECALL_WEBHOOK_URL"] = f"http://127.0.0.1:{self.hook.port}/hook"
        self.env["ROLECALL_WEBHOOK_SECRET"] = WEBHOOK_SECRET
        for w in self.workers:
            w.env = self.env
        try:
            self._start_web()
            for w in self.workers:
                w.start()
        except BaseException:
            self.stop()  # the fixture's teardown never runs when set-up fails: leave nothing behind
            raise
        return self

    def stop(self) -> None:
        for w in self.workers:
            w.stop()
        if self.web is not None:
            self.web.stop()
        self.simulator.call(self.hook.stop())
        self.simulator.stop()

    # --- processes ------------------------------------------------------------------------------

    def _start_web(self) -> None:
        self.web = WebProcess(self.env, self.web_port, self.workdir / "web.log").start()

    def ensure_workers(self) -> None:
        """Start every worker that is not running (after a drain or a kill)."""
        for w in self.workers:
            if not w.running:
                w.start()
        self.wait_idle()

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Until every worker has no active session and has told LiveKit it takes jobs again.

        A worker that was full (MAX_SESSIONS) says "available" on its next status update; a dispatch
        made before LiveKit hears it finds no worker and is retried only ~30 s later.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            running = [w for w in self.workers if w.running]
            if all(w.active_sessions() == 0 and w.reported_available() for w in running):
                time.sleep(0.3)  # the status message's way to the server
                return
            time.sleep(0.2)
        raise AssertionError(f"sessions still active: {[w.health() for w in self.workers]}")

    # --- the page ---------------------------------------------------------------------------------

    async def open_session(self, role: str = "concierge") -> Session:
        """`POST /api/session`, then join the room with the returned token, as the demo page does."""
        status, info = await asyncio.to_thread(http_post, f"{self.web_url}/api/session", {"role": role})
        assert status == 200, info
        ui = UIParticipant(self.livekit, info["room"], identity=info["identity"], token=info["token"])
        await ui.join()
        return Session(info, ui)

    async def redispatch(self, session: Session) -> tuple[int, Any]:
        """`POST /api/session/redispatch` with the session token, as the demo's "Bring the agent back"."""
        return await asyncio.to_thread(
            http_post,
            f"{self.web_url}/api/session/redispatch",
            None,
            {"Authorization": f"Bearer {session.token}"},
        )

    def reports(self, room: str) -> list[dict[str, Any]]:
        """The signed session-end reports received for `room`, oldest first."""
        found = [r for r in self.hook.received if isinstance(r.body, dict) and r.body.get("room") == room]
        assert all(r.signature_ok for r in found)
        return [r.body for r in found]

    async def wait_reports(self, room: str, count: int = 1, timeout: float = 30.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.reports(room)) < count:
            assert time.monotonic() < deadline, (
                f"{len(self.reports(room))} report(s) for {room}, wanted {count}"
            )
            await asyncio.sleep(0.1)
        return self.reports(room)

    async def room_metadata(self, room: str) -> str:
        async with self.livekit.api() as lk:
            rooms = await lk.room.list_rooms(api.ListRoomsRequest(names=[room]))
        return rooms.rooms[0].metadata if rooms.rooms else ""

    def worker_of(self, job_id: str) -> Worker:
        """The worker whose job process ran `job_id` (from the job logs)."""
        owners = [w for w in self.workers if f'"job_id": "{job_id}"' in w.log()]
        assert len(owners) == 1, f"job {job_id} in logs of {[w.name for w in owners]}"
        return owners[0]


def agent_job_id(ui: UIParticipant) -> str:
    """The job id behind the agent in the room (the agent identity is `agent-<job id>`)."""
    agent = ui.agent()
    assert agent is not None, "no agent in the room"
    assert agent.identity.startswith("agent-"), agent.identity
    return agent.identity.removeprefix("agent-")
