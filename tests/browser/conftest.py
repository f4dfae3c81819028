"""The real stack for browser tests: livekit-server, the simulator playing `scenarios/demo.yaml`, the
worker and the web backend serving the built demo; Debian's Chromium is driven by `run.mjs` (Node,
playwright-core), one process per scenario.

The worker and the backend serve a copy of `roles/`; the worker's `ROLECALL_APP_URL` points the recipe
search (a path in the role file) at this backend's free port, and
`ROLECALL_HTTP_ALLOWED_HOSTS` allows only that host, as in `docker compose`.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import uuid
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from livekit import api

from tests.support.livekit_server import ROOT, LiveKitServer, free_port
from tests.support.simulator_thread import SimulatorThread
from tests.support.worker_process import WebProcess, WorkerProcess
from worker.simulator import Scenario, SimulatorConfig

CHROMIUM = Path(os.environ.get("ROLECALL_CHROMIUM", "/usr/bin/chromium"))
DEMO_DIST = ROOT / "frontend" / "demo" / "dist"
RUNNER = Path(__file__).with_name("run.mjs")
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
TOOL_SECRET = "browser-test-tool-secret"
SPOKEN = "I'd like to cook pasta tonight."


@dataclass
class BrowserStack:
    livekit: LiveKitServer
    simulator: SimulatorThread
    worker: WorkerProcess
    web: WebProcess
    wav: Path

    def run(self, scenario: str, timeout: float = 180.0) -> dict[str, Any]:
        """Run one scenario of run.mjs in a fresh Chromium; return its JSON result."""
        env = {
            **os.environ,
            "APP_URL": self.web.url,
            "WAV": str(self.wav),
            "ARTIFACTS": str(ARTIFACTS),
            "CHROMIUM": str(CHROMIUM),
        }
        done = subprocess.run(
            ["node", str(RUNNER), scenario],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        assert lines, f"run.mjs printed no result (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
        result: dict[str, Any] = json.loads(lines[-1])
        assert result["ok"], (
            f"{scenario} failed: {result['error']}\nobserved: {result['observed']}\nconsole: {result['console']}\n"
            f"worker log tail:\n{self.worker.log()[-2500:]}\nweb log tail:\n{self.web.log()[-1500:]}"
        )
        return result

    async def room_names(self) -> set[str]:
        """The rooms that exist now (to tell a new page's room from earlier ones)."""
        async with self.livekit.api() as lk:
            return {r.name for r in (await lk.room.list_rooms(api.ListRoomsRequest())).rooms}

    async def page_room(self, known: set[str], timeout: float = 90.0) -> tuple[str, str]:
        """The new demo room (not in `known`) and its user's identity, once page and agent are in it."""
        async with self.livekit.api() as lk, asyncio.timeout(timeout):
            while True:
                rooms = await lk.room.list_rooms(api.ListRoomsRequest())
                for room in rooms.rooms:
                    if room.name in known or not room.name.startswith("rolecall-cooking-guide-"):
                        continue
                    res = await lk.room.list_participants(api.ListParticipantsRequest(room=room.name))
                    users = [p.identity for p in res.participants if p.identity.startswith("user-")]
                    agents = [p for p in res.participants if p.kind == api.ParticipantInfo.Kind.AGENT]
                    if users and agents:
                        return room.name, users[0]
                await asyncio.sleep(0.3)

    def function_calls(self, name: str) -> list[dict[str, Any]]:
        """The simulator's function calls of tool `name` (all connections)."""
        return [
            ev["item"]
            for ev in self.simulator.sim.sent_of("response.output_item.done")
            if ev["item"].get("type") == "function_call" and ev["item"].get("name") == name
        ]

    def tool_outputs(self, name: str) -> list[str]:
        """What the worker sent the model back for each call of `name`."""
        call_ids = {item["call_id"] for item in self.function_calls(name)}
        return [
            ev["item"]["output"]
            for ev in self.simulator.sim.received_of("conversation.item.create")
            if ev["item"].get("type") == "function_call_output" and ev["item"].get("call_id") in call_ids
        ]


def spoken_wav(path: Path, text: str) -> Path:
    """`text` spoken by espeak-ng, as 48 kHz mono 16-bit PCM with silence after it (ends the turn)."""
    raw = path.with_suffix(".espeak.wav")
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(raw), text], check=True, capture_output=True)
    with wave.open(str(raw), "rb") as w:
        rate = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64)
    target = 48_000
    n = int(len(data) * target / rate)
    resampled = np.interp(np.linspace(0, len(data) - 1, n), np.arange(len(data)), data)
    silence = lambda seconds: np.zeros(int(target * seconds))  # noqa: E731
    samples = np.concatenate([silence(0.3), resampled, silence(4.0)]).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(target)
        w.writeframes(samples.tobytes())
    return path


@pytest.fixture(scope="module")
def browser_stack(
    livekit_server: LiveKitServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserStack]:
    if not CHROMIUM.is_file():
        raise RuntimeError(f"Chromium not found at {CHROMIUM}: run `make setup` (installs Debian's chromium)")
    if not (DEMO_DIST / "index.html").is_file():
        raise RuntimeError(f"the demo is not built ({DEMO_DIST}): run `make frontend`")
    tmp = tmp_path_factory.mktemp("browser")
    web_port = free_port()
    roles_dir = tmp / "roles"
    shutil.copytree(ROOT / "roles", roles_dir)
    scenario = Scenario.load(ROOT / "scenarios" / "demo.yaml")
    simulator = SimulatorThread(SimulatorConfig(port=0, scenario=scenario, speech="espeak")).start()
    agent_name = f"rolecall-browser-{uuid.uuid4().hex[:6]}"
    env = {
        **livekit_server.env(),
        "OPENAI_BASE_URL": simulator.sim.base_url,
        "OPENAI_API_KEY": "sim",
        "ROLECALL_AGENT_NAME": agent_name,
        "ROLECALL_ROLES_DIR": str(roles_dir),
        "ROLECALL_TOOL_SECRET": TOOL_SECRET,
        "ROLECALL_APP_URL": f"http://localhost:{web_port}",
        "ROLECALL_HTTP_ALLOWED_HOSTS": "localhost",
        "ROLECALL_SPOOL_DIR": str(tmp / "spool"),
    }
    worker = WorkerProcess(env, tmp / "worker.log").start()
    web = WebProcess({**env, "ROLECALL_WEB_STATIC_DIR": str(DEMO_DIST)}, web_port, tmp / "web.log").start()
    wav = spoken_wav(tmp / "pasta.wav", SPOKEN)
    yield BrowserStack(livekit_server, simulator, worker, web, wav)
    web.stop()
    worker.stop()
    simulator.stop()
    assert simulator.sim.violations == [], f"simulator sent invalid events: {simulator.sim.violations[:3]}"
