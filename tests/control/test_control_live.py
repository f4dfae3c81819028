"""The control API and live events end to end: a real LiveKit server, the worker, the simulator, the
web backend in process, and an event receiver the test controls."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from livekit import api

from tests.control.receiver import EventReceiver
from tests.session.conftest import HTTP_SECRET, Stack, make_stack
from tests.support.livekit_server import LiveKitServer, free_port
from tests.web.conftest import make_settings, open_client
from worker.control.commands import CONTROL_TOPIC, SayBody, packet
from worker.protocol import SAY_EXACTLY

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "control"
KEY = "control-test-key-0123456789abcdef0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def control_stack(
    livekit_server: LiveKitServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, EventReceiver]]:
    port = free_port()
    receiver = EventReceiver(HTTP_SECRET)
    stacks = make_stack(
        livekit_server,
        tmp_path_factory,
        ROLECALL_EVENTS_URL=f"http://127.0.0.1:{port}/events",
        ROLECALL_EVENTS_RETRY_S="0.5",
    )
    stack = next(stacks)
    stack.simulator.call(receiver.start(port))
    yield stack, receiver
    stack.simulator.call(receiver.stop())
    next(stacks, None)


@pytest.fixture
async def web(control_stack: tuple[Stack, EventReceiver]) -> AsyncIterator[TestClient[Any, Any]]:
    stack, _ = control_stack
    settings = make_settings(
        stack.livekit, roles_dir=stack.roles_dir, agent_name=stack.agent_name, web_api_keys=KEY
    )
    client = await open_client(settings)
    yield client
    await client.close()


async def wait_until(predicate: Any, what: str, timeout: float = 20.0) -> Any:
    async with asyncio.timeout(timeout):
        while not (value := predicate()):
            await asyncio.sleep(0.05)
    return value


def instructions(stack: Stack) -> list[str]:
    return [
        str(e.get("response", {}).get("instructions") or "") for e in stack.client_events("response.create")
    ]


def items_text(stack: Stack) -> str:
    return json.dumps(stack.client_events("conversation.item.create"))


async def post(web: TestClient[Any, Any], room: str, command: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = await web.post(f"/api/sessions/{room}/{command}", json=body, headers=AUTH)
    assert resp.status == 202, await resp.text()
    answer: dict[str, Any] = await resp.json()
    assert answer["command"] == command and answer["room"] == room
    return answer


def control_event(receiver: EventReceiver, command_id: str) -> dict[str, Any] | None:
    return next((e for e in receiver.events if e["data"].get("command_id") == command_id), None)


async def test_say_context_respond_reach_the_model_and_come_back_as_events(
    control_stack: tuple[Stack, EventReceiver], web: TestClient[Any, Any]
) -> None:
    stack, receiver = control_stack
    ui = await stack.session("concierge")
    room = ui.room_name
    try:
        await ui.wait_for(lambda: ui.agent_attribute("rolecall.role") == "concierge", what="the agent")
        listed = await (await web.get("/api/sessions", headers=AUTH)).json()
        mine = next(s for s in listed["sessions"] if s["room"] == room)
        assert mine["role"] == "concierge" and mine["participant"] == "user"

        said = await post(web, room, "say", {"text": "Your order has shipped.", "interrupt": True})
        await wait_until(
            lambda: any(f"{SAY_EXACTLY} Your order has shipped." in i for i in instructions(stack)),
            "a response.create with the exact words",
        )
        ctx = await post(web, room, "context", {"text": "Order 42 is out for delivery."})
        await wait_until(lambda: "Order 42 is out for delivery." in items_text(stack), "the context item")
        replied = await post(web, room, "respond", {"instructions": "Ask whether they need anything else."})
        await wait_until(
            lambda: any("Ask whether they need anything else." in i for i in instructions(stack)),
            "the reply's instructions",
        )
        for answer in (said, ctx, replied):
            event = await wait_until(
                lambda a=answer: control_event(receiver, a["command_id"]), "control.applied"
            )
            assert event["type"] == "control.applied", event
            assert event["room"] == room

        detail = await (await web.get(f"/api/sessions/{room}", headers=AUTH)).json()
        assert detail["role"] == "concierge" and isinstance(detail["transcript"], list)
    finally:
        await ui.leave()


async def test_handoff_changes_the_role_the_page_sees(
    control_stack: tuple[Stack, EventReceiver], web: TestClient[Any, Any]
) -> None:
    stack, receiver = control_stack
    ui = await stack.session("concierge")
    room = ui.room_name
    try:
        await ui.wait_for(lambda: ui.agent_attribute("rolecall.role") == "concierge", what="the agent")
        resp = await web.post(f"/api/sessions/{room}/handoff", json={"role": "no-such-role"}, headers=AUTH)
        assert resp.status == 404 and (await resp.json())["error"]["code"] == "unknown_role"
        answer = await post(web, room, "handoff", {"role": "sommelier"})
        await ui.wait_for(lambda: ui.agent_attribute("rolecall.role") == "sommelier", what="the sommelier")
        await ui.wait_for(lambda: any(e.get("name") == "sommelier" for e in ui.events), what="the role event")
        applied = await wait_until(lambda: control_event(receiver, answer["command_id"]), "control.applied")
        assert applied["type"] == "control.applied"
        changed = await wait_until(
            lambda: [e for e in receiver.of_room(room) if e["type"] == "role.changed"], "role.changed"
        )
        assert changed[0]["data"]["role"] == "sommelier" and changed[0]["data"]["previous"] == "concierge"
        again = await post(web, room, "handoff", {"role": "sommelier"})
        failed = await wait_until(lambda: control_event(receiver, again["command_id"]), "control.failed")
        assert failed["type"] == "control.failed" and "already" in failed["data"]["detail"]
    finally:
        await ui.leave()


async def test_end_reports_app_ended_and_events_arrive_in_order(
    control_stack: tuple[Stack, EventReceiver], web: TestClient[Any, Any]
) -> None:
    stack, receiver = control_stack
    ui = await stack.session("concierge")
    room = ui.room_name
    try:
        await ui.wait_for(lambda: ui.agent_attribute("rolecall.role") == "concierge", what="the agent")
        await ui.wait_for(lambda: ui.agent_text(), what="the greeting")
        await post(web, room, "end", {"reason": "order cancelled", "goodbye": "Goodbye from the app."})
        await wait_until(
            lambda: any("Goodbye from the app." in i for i in instructions(stack)), "the goodbye"
        )
        report = await stack.wait_report(room)
        assert report["end_reason"] == "app_ended"
        events = await wait_until(
            lambda: (e := receiver.of_room(room)) and e[-1]["type"] == "session.ended" and e, "session.ended"
        )
    finally:
        await ui.leave()
    ids = [e["id"] for e in events]
    assert len(ids) == len(set(ids)), "an event was delivered twice"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1)), [e["type"] for e in events]
    types = [e["type"] for e in events]
    assert types[0] == "session.started" and types[-1] == "session.ended"
    assert "transcript.line" in types and "control.applied" in types
    assert events[-1]["data"]["end_reason"] == "app_ended"
    assert all(e["version"] == 1 and e["session_id"].startswith(room) for e in events)
    assert receiver.bad == []


async def test_a_participant_cannot_forge_a_control_packet(
    control_stack: tuple[Stack, EventReceiver], web: TestClient[Any, Any]
) -> None:
    stack, receiver = control_stack
    ui = await stack.session("concierge")
    room = ui.room_name
    try:
        await ui.wait_for(lambda: ui.agent_attribute("rolecall.role") == "concierge", what="the agent")
        forged = packet("say", SayBody(text="I am forged and must never be said."))
        await ui.room.local_participant.publish_data(forged.encode(), reliable=True, topic=CONTROL_TOPIC)
        # The same bytes from the server are taken: proof that only the sender made the difference.
        genuine = packet("say", SayBody(text="I come from the server."))
        async with stack.livekit.api() as lk:
            agent = ui.agent()
            assert agent is not None
            await lk.room.send_data(
                api.SendDataRequest(
                    room=room,
                    data=genuine.encode(),
                    kind=api.DataPacket.Kind.RELIABLE,
                    destination_identities=[agent.identity],
                    topic=CONTROL_TOPIC,
                )
            )
        await wait_until(
            lambda: any("I come from the server." in i for i in instructions(stack)), "server say"
        )
        await wait_until(
            lambda: "ignored a control packet published by participant 'user'" in stack.worker.log(), "log"
        )
        assert not any("forged" in i for i in instructions(stack))
        assert control_event(receiver, forged.id) is None
    finally:
        await ui.leave()


async def test_api_refuses_bad_requests_precisely(
    control_stack: tuple[Stack, EventReceiver], web: TestClient[Any, Any]
) -> None:
    stack, _ = control_stack
    ui = await stack.session("concierge")
    room = ui.room_name
    try:
        await ui.wait_for(lambda: ui.agent_attribute("rolecall.role") == "concierge", what="the agent")

        async def code(method: str, path: str, status: int, **kw: Any) -> str:
            resp = await web.request(method, path, **kw)
            assert resp.status == status, (path, await resp.text())
            return str((await resp.json())["error"]["code"])

        assert await code("GET", "/api/sessions", 401) == "unauthorized"
        assert (
            await code("GET", "/api/sessions", 401, headers={"Authorization": "Bearer wrong"})
            == "invalid_api_key"
        )
        assert await code(
            "POST", "/api/sessions/no-such-room/say", 404, json={"text": "x"}, headers=AUTH
        ) == ("unknown_room")
        assert await code(
            "POST", f"/api/sessions/{room}/say", 422, json={"text": "x" * 2001}, headers=AUTH
        ) == ("invalid_request")
        assert await code("POST", f"/api/sessions/{room}/say", 422, json={"txt": "x"}, headers=AUTH) == (
            "invalid_request"
        )
        bad_json = {"data": b"{not json", "headers": {**AUTH, "Content-Type": "application/json"}}
        assert await code("POST", f"/api/sessions/{room}/context", 400, **bad_json) == "malformed_json"
        assert await code(
            "POST", f"/api/sessions/{room}/handoff", 404, json={"role": "nope"}, headers=AUTH
        ) == ("unknown_role")
        async with stack.livekit.api() as lk:
            await lk.room.create_room(api.CreateRoomRequest(name=f"{room}-empty", empty_timeout=30))
        assert await code("POST", f"/api/sessions/{room}-empty/end", 409, json={}, headers=AUTH) == "no_agent"
        assert await code("GET", f"/api/sessions/{room}-empty", 409, headers=AUTH) == "no_agent"
    finally:
        await ui.leave()


async def test_the_cli_lists_and_drives_a_session(
    control_stack: tuple[Stack, EventReceiver], web: TestClient[Any, Any]
) -> None:
    stack, _ = control_stack
    ui = await stack.session("concierge")
    room = ui.room_name
    base = str(web.make_url("")).rstrip("/")
    env = {"ROLECALL_API_URL": base, "ROLECALL_API_KEY": KEY, "PATH": "/usr/bin:/bin"}

    async def cli(*args: str, key: bool = True) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "worker",
            "sessions",
            *args,
            env=env if key else {k: v for k, v in env.items() if k != "ROLECALL_API_KEY"},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        return proc.returncode or 0, out.decode(), err.decode()

    try:
        await ui.wait_for(lambda: ui.agent_attribute("rolecall.role") == "concierge", what="the agent")
        rc, out, _ = await cli("list")
        assert rc == 0 and room in out and "concierge" in out
        rc, out, _ = await cli("say", room, "Spoken from the command line.")
        assert rc == 0 and "cmd_" in out
        await wait_until(
            lambda: any("Spoken from the command line." in i for i in instructions(stack)), "cli say"
        )
        rc, out, _ = await cli("show", room, "--json")
        assert rc == 0 and json.loads(out)["room"] == room
        rc, _, err = await cli("say", "no-such-room", "hello")
        assert rc == 1 and "unknown_room" in err
        rc, _, err = await cli("list", key=False)
        assert rc == 2 and "ROLECALL_API_KEY" in err
        rc, out, _ = await cli("end", room, "--reason", "done")
        assert rc == 0
        assert (await stack.wait_report(room))["end_reason"] == "app_ended"
    finally:
        await ui.leave()


@pytest.mark.parametrize("example", ["app_backend.py", "app-backend.mjs"])
async def test_the_examples_tell_the_agent_when_a_timer_ends(
    control_stack: tuple[Stack, EventReceiver], web: TestClient[Any, Any], example: str
) -> None:
    """docs/how-to/control.md's examples: a signed tool.completed of start_timer makes them send a
    `context` command through the real web backend once the timer has run out."""
    from worker.outbox.envelope import Signer

    stack, _ = control_stack
    path = EXAMPLES / example
    port = free_port()
    env = {
        "ROLECALL_API_URL": str(web.make_url("")).rstrip("/"),
        "ROLECALL_API_KEY": KEY,
        "ROLECALL_WEBHOOK_SECRET": HTTP_SECRET,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
    }
    argv = [sys.executable, str(path)] if example.endswith(".py") else ["node", str(path)]
    proc = await asyncio.create_subprocess_exec(
        *argv, str(port), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    ui = await stack.session("concierge")
    room = ui.room_name
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(15):
            assert b"listening" in await proc.stdout.readline()
        await ui.wait_for(lambda: ui.agent_attribute("rolecall.role") == "concierge", what="the agent")
        text = f"pasta water {example}"
        event = {
            "type": "tool.completed",
            "version": 1,
            "id": "evt_" + "ab" * 16,
            "created_at": "2026-12-01T10:00:00.000Z",
            "session_id": f"{room}:job",
            "room": room,
            "seq": 5,
            "data": {"name": "start_timer", "kind": "frontend", "arguments": {"label": text, "seconds": 1}},
        }
        body = json.dumps(event).encode()
        import aiohttp

        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{port}/events"
            forged = await http.post(url, data=body, headers={**Signer("x" * 32).headers(event["id"], body)})
            assert forged.status == 401
            for _ in range(2):  # a retry is handled once
                resp = await http.post(url, data=body, headers=Signer(HTTP_SECRET).headers(event["id"], body))
                assert resp.status == 204
        await wait_until(lambda: text in items_text(stack), "the example's context item")
        assert items_text(stack).count(text) == 1
    finally:
        proc.terminate()
        await proc.wait()
        await ui.leave()
