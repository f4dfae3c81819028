"""The real stack for session tests: livekit-server, the simulator, and a worker process.

The worker serves a private copy of `roles/` (tests add and edit roles there) under a unique agent
name, so dispatches from these tests reach only this worker.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from livekit import api

from tests.session.app_server import AppServer
from tests.session.bench_roles import LIVE_SECOND_ROLE, SECOND_ROLE, bench_role, live_bench_role
from tests.support.livekit_server import ROOT, LiveKitServer
from tests.support.simulator_thread import SimulatorThread
from tests.support.ui_participant import UIParticipant
from tests.support.worker_process import WorkerProcess
from worker.simulator import RecordedEvent, SimulatorConfig
from worker.simulator.scenario import Scenario

HTTP_SECRET = "test-http-signing-secret"
CHAT_MAX_CHARS = 40_000
"""`ROLECALL_CHAT_MAX_CHARS` of the test stacks: tests drive the simulator with typed `/call` commands,
some with 16 KB of arguments."""


@dataclass
class Stack:
    livekit: LiveKitServer
    simulator: SimulatorThread
    worker: WorkerProcess
    roles_dir: Path
    agent_name: str
    app: AppServer
    since: tuple[int, int] = (0, 0)
    """Simulator record positions when the current test's session was dispatched."""
    earlier: frozenset[str] = frozenset()
    """Simulator connections already used by a client then: an earlier session's, which may still be
    closing (under load, well after its test has ended) and must not count as this session's."""

    def write_role(self, name: str, text: str) -> Path:
        path = self.roles_dir / f"{name}.yaml"
        path.write_text(text)
        return path

    async def dispatch(
        self, role: str, *, participant: str = "user", room: str | None = None, **meta: Any
    ) -> str:
        room = room or f"test-{uuid.uuid4().hex[:10]}"
        metadata = json.dumps({"role": role, "participant": participant, **meta})
        async with self.livekit.api() as lk:
            await lk.agent_dispatch.create_dispatch(
                api.CreateAgentDispatchRequest(agent_name=self.agent_name, room=room, metadata=metadata)
            )
        return room

    async def session(self, role: str, handlers: dict[str, Any] | None = None, **kw: Any) -> UIParticipant:
        """Dispatch `role` to a new room and join it as the user, with these RPC handlers."""
        answer_discovery = kw.pop("answer_discovery", True)
        sim = self.simulator.sim
        self.since = (len(sim.sent), len(sim.received))
        self.earlier = frozenset(r.connection for r in sim.received)
        room = await self.dispatch(role, **kw)
        ui = UIParticipant(
            self.livekit,
            room,
            identity=kw.get("participant", "user"),
            handlers=handlers or {},
            answer_discovery=answer_discovery,
        )
        return await ui.join()

    def received(self) -> list[RecordedEvent]:
        """The client events of this test's session (on connections no earlier session used)."""
        return [r for r in self.simulator.sim.received[self.since[1] :] if r.connection not in self.earlier]

    def sent(self) -> list[RecordedEvent]:
        """The server events to this test's session."""
        return [r for r in self.simulator.sim.sent[self.since[0] :] if r.connection not in self.earlier]

    def client_events(self, type_: str) -> list[dict[str, Any]]:
        return self.simulator.sim.received_of(type_)

    def tool_outputs(self, tool: str) -> list[str]:
        """What the worker sent the model back for each call of `tool` (function_call_output items)."""
        call_ids = {
            r.event["item"]["call_id"]
            for r in self.sent()
            if r.type == "response.output_item.done"
            and r.event["item"].get("type") == "function_call"
            and r.event["item"].get("name") == tool
        }
        return [
            r.event["item"]["output"]
            for r in self.received()
            if r.type == "conversation.item.create"
            and r.event["item"].get("type") == "function_call_output"
            and r.event["item"].get("call_id") in call_ids
        ]

    async def wait_report(self, room: str, timeout: float = 30.0) -> dict[str, Any]:
        """The signed session-end report the worker POSTed to the app backend for `room`."""
        import asyncio

        def find() -> dict[str, Any] | None:
            for r in self.app.received:
                if r.path == "/hook" and isinstance(r.body, dict) and r.body.get("room") == room:
                    return r.body
            return None

        async with asyncio.timeout(timeout):
            while (report := find()) is None:
                await asyncio.sleep(0.1)
        return report

    async def wait_tool_output(self, tool: str, timeout: float = 20.0) -> str:
        import asyncio

        async with asyncio.timeout(timeout):
            while not self.tool_outputs(tool):
                await asyncio.sleep(0.05)
        return self.tool_outputs(tool)[-1]


@pytest.fixture(scope="module")
def stack(livekit_server: LiveKitServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from make_stack(livekit_server, tmp_path_factory)


def make_stack(
    livekit_server: LiveKitServer,
    tmp_path_factory: pytest.TempPathFactory,
    *,
    mode: str = "dev",
    scenario: Scenario | None = None,
    **worker_env: str,
) -> Iterator[Stack]:
    """The simulator (playing `scenario`, if any), the app backend and a worker (`dev` or `start`, with
    these extra settings)."""
    tmp = tmp_path_factory.mktemp("stack")
    roles_dir = tmp / "roles"
    shutil.copytree(ROOT / "roles", roles_dir)
    simulator = SimulatorThread(SimulatorConfig(port=0, speech="tone", scenario=scenario)).start()
    app = AppServer(HTTP_SECRET)
    simulator.call(app.start())  # the app backend shares the simulator thread's event loop
    (roles_dir / "bench.yaml").write_text(bench_role(app.port))
    (roles_dir / "bench-second.yaml").write_text(SECOND_ROLE)
    (roles_dir / "bench-gpt-live.yaml").write_text(live_bench_role(app.port))
    (roles_dir / "bench-gpt-live-second.yaml").write_text(LIVE_SECOND_ROLE)
    agent_name = f"rolecall-test-{uuid.uuid4().hex[:6]}"
    env = {
        **livekit_server.env(),
        "OPENAI_BASE_URL": simulator.sim.base_url,
        "OPENAI_API_KEY": "",
        "ROLECALL_AGENT_NAME": agent_name,
        "ROLECALL_ROLES_DIR": str(roles_dir),
        "ROLECALL_DISCONNECT_GRACE_S": "3",
        "ROLECALL_PARTICIPANT_TIMEOUT_S": "15",
        "ROLECALL_CHAT_MAX_CHARS": str(CHAT_MAX_CHARS),
        "TOOL_TEST_HTTP_SECRET": HTTP_SECRET,  # role files may reference TOOL_* names (ROLECALL_TOOL_ENV)
        "ROLECALL_HTTP_PRIVATE_HOSTS": "127.0.0.1",  # the bench role's http tools post to the app on loopback
        "ROLECALL_WEBHOOK_URL": f"http://127.0.0.1:{app.port}/hook",
        "ROLECALL_WEBHOOK_SECRET": HTTP_SECRET,
        "ROLECALL_SPOOL_DIR": str(tmp / "spool"),
        **worker_env,
    }
    worker = WorkerProcess(env, tmp / "worker.log", mode=mode).start()
    yield Stack(livekit_server, simulator, worker, roles_dir, agent_name, app)
    worker.stop()
    simulator.call(app.stop())
    simulator.stop()
    assert simulator.sim.violations == [], f"simulator sent invalid events: {simulator.sim.violations[:3]}"
