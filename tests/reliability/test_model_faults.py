"""Faults of the model connection, on the real stack: what the user gets, and that the report keeps all.

Gaps are printed (`pytest -s`), never asserted.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.reliability.conftest import RelStack, agent_env
from tests.support.livekit_server import free_port
from tests.support.ui_participant import UIParticipant
from tests.support.worker_process import WorkerProcess

pytestmark = pytest.mark.integration

HANDLERS: dict[str, Any] = {"show_card": lambda args: {"shown": args["title"]}}


async def greeted(rel: RelStack) -> UIParticipant:
    ui = await rel.session("bench", HANDLERS)
    await ui.wait_for(lambda: ui.calls_to("rolecall.tools"), what="discovery")
    await ui.wait_for(lambda: "Hello" in ui.agent_text(), what="greeting")
    return ui


async def exchange(rel: RelStack, ui: UIParticipant, words: str, timeout: float = 20.0) -> None:
    await ui.say_text(words)
    await ui.wait_for(lambda: f"You said: {words}" in ui.agent_text(), timeout, f"the reply to {words!r}")


async def tool_call(rel: RelStack, ui: UIParticipant, title: str) -> None:
    n = len(ui.calls_to("show_card"))
    await ui.say_text(f'/call show_card {{"title": "{title}"}}')
    await ui.wait_for(lambda: len(ui.calls_to("show_card")) > n, what=f"show_card {title}")
    # ... and the model's answer to the tool's result, so that no response is in flight afterwards.
    await ui.wait_for(
        lambda: f'"shown": "{title}"' in ui.agent_text(), what=f"the answer to show_card {title}"
    )


def connection_of_room(rel: RelStack, ui: UIParticipant) -> Any:
    """The simulator connection serving this session (the newest; tests run one session at a time)."""
    sim = rel.simulator.sim
    return sim.newest_in_use()


async def end_and_report(rel: RelStack, ui: UIParticipant) -> dict[str, Any]:
    await ui.leave()
    return await rel.report(ui.room_name)


def assert_report_holds(report: dict[str, Any], lines: list[str], tools: list[str]) -> None:
    """Every `lines` text is in an agent or user line, and every `tools` title in a show_card call."""
    transcript = [f"{t['speaker']}: {t['text']}" for t in report["transcript"]]
    for text in lines:
        assert any(text in line for line in transcript), f"{text!r} missing from the report: {transcript}"
    titles = [c["arguments"].get("title") for c in report["tool_calls"] if c["name"] == "show_card"]
    for title in tools:
        assert title in titles, f"tool call {title!r} missing from the report: {report['tool_calls']}"
    failed = [c for c in report["tool_calls"] if c["name"] == "show_card" and c["outcome"] != "ok"]
    assert not failed, f"failed show_card calls: {failed}"


async def test_connection_dropped_mid_response_reconnects_and_replays_the_conversation(rel: RelStack) -> None:
    sim = rel.simulator.sim
    ui = await greeted(rel)
    await exchange(rel, ui, "before the drop")
    await tool_call(rel, ui, "before")
    await asyncio.sleep(1.0)
    conn = connection_of_room(rel, ui)
    old_id = conn.id
    conn.faults.drop_mid_response = True
    await ui.say_text("this reply is cut")
    # The simulator drops the socket after the first delta of that reply.
    deadline = time.monotonic() + 20
    while conn.id in {c.id for c in sim.connections} and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    dropped_at = max(r.at for r in sim.sent if r.connection == old_id)
    new = await ui.wait_for(
        lambda: next((c for c in sim.connections if c.id != old_id and c.received_count), None),
        30,
        "a new model connection",
    )
    # The new connection gets the earlier conversation back as items.
    replayed = await ui.wait_for(
        lambda: [
            r.event["item"]
            for r in sim.received
            if r.connection == new.id and r.type == "conversation.item.create"
        ],
        30,
        "replayed items",
    )
    texts = " ".join(
        part.get("text", "") or part.get("transcript", "")
        for item in replayed
        for part in item.get("content", []) or []
    )
    print(f"\nreplayed {len(replayed)} items on {new.id}: {texts[:300]!r}")
    assert "before the drop" in texts
    assert any(item.get("type") == "function_call" and item.get("name") == "show_card" for item in replayed)
    assert any(item.get("type") == "function_call_output" for item in replayed)
    # The user speaks again and hears the agent.
    await exchange(rel, ui, "after the drop", timeout=30)
    await ui.wait_for(lambda: any(t > dropped_at for t in ui.audio_times), what="agent audio after the drop")
    await tool_call(rel, ui, "after")
    first_delta = min(
        r.at for r in sim.sent if r.connection == new.id and r.type == "response.output_audio.delta"
    )
    heard = min(t for t in ui.audio_times if t > first_delta)
    reconnect = min(r.at for r in sim.received if r.connection == new.id)
    said = [
        r.event.get("transcript")
        for r in sim.sent
        if r.connection == new.id and r.type == "response.output_audio_transcript.done"
    ]
    print(
        f"new connection said: {said}; first client events: {[r.type for r in sim.received if r.connection == new.id][:12]}"
    )
    print(
        f"drop -> new connection's first event {reconnect - dropped_at:.2f} s; "
        f"drop -> user hears the agent again {heard - dropped_at:.2f} s (includes the user's next message)"
    )
    report = await end_and_report(rel, ui)
    assert_report_holds(report, ["before the drop", "after the drop"], ["before", "after"])


@pytest.mark.parametrize("kind", ["rate_limit", "server_error", "session_expired"])
async def test_model_error_events(rel: RelStack, kind: str) -> None:
    sim = rel.simulator.sim
    ui = await greeted(rel)
    await exchange(rel, ui, f"before {kind}")
    await tool_call(rel, ui, f"before {kind}")
    await asyncio.sleep(0.5)
    conn = connection_of_room(rel, ui)
    conn.faults.error = kind  # type: ignore[assignment]
    await ui.say_text("this one fails")
    await sim.wait_for(
        "error" if kind != "rate_limit" else "response.done",
        sent=True,
        where=lambda r: (
            r.connection == conn.id and (r.type == "error" or r.event["response"]["status"] == "failed")
        ),
        timeout=20,
    )
    failed_at = time.monotonic()
    await asyncio.sleep(1.0)
    print(f"\n{kind}: events to the page {ui.events}; connections {[c.id for c in sim.connections]}")
    # The session goes on: the next message is answered and tools still work.
    await exchange(rel, ui, f"after {kind}", timeout=30)
    await tool_call(rel, ui, f"after {kind}")
    heard = min(t for t in ui.audio_times if t > failed_at + 1.0)
    print(
        f"{kind}: error -> next reply heard {heard - failed_at:.2f} s (after the user's next message, sent 1 s later)"
    )
    assert not [e for e in ui.events if e.get("type") == "error"], ui.events
    report = await end_and_report(rel, ui)
    assert_report_holds(report, [f"before {kind}", f"after {kind}"], [f"before {kind}", f"after {kind}"])


async def test_model_unreachable_at_start_tells_the_user_and_leaves_nothing_behind(
    rel: RelStack, tmp_path: Path
) -> None:
    from livekit import api

    closed = free_port()  # nothing listens there
    agent_name = f"rolecall-rel-nomodel-{uuid.uuid4().hex[:6]}"
    env = agent_env(rel.livekit, rel.simulator, rel.roles_dir, agent_name, rel.hook)  # type: ignore[arg-type]
    env["OPENAI_BASE_URL"] = f"http://127.0.0.1:{closed}/v1"
    worker = WorkerProcess(env, tmp_path / "worker-nomodel.log").start()
    try:
        main = psutil.Process(worker.proc.pid)  # type: ignore[union-attr]
        await _settle(main)
        before = {p.pid for p in main.children(recursive=True)}
        room = f"nomodel-{uuid.uuid4().hex[:8]}"
        async with rel.livekit.api() as lk:
            await lk.agent_dispatch.create_dispatch(
                api.CreateAgentDispatchRequest(
                    agent_name=agent_name,
                    room=room,
                    metadata=json.dumps({"role": "bench", "participant": "user"}),
                )
            )
        started = time.monotonic()
        ui = await UIParticipant(rel.livekit, room, handlers=HANDLERS).join()
        try:
            event = await ui.wait_for(
                lambda: next((e for e in ui.events if e.get("type") == "error"), None), 90, "the error event"
            )
            told = time.monotonic() - started
            assert event["code"] == "model_unavailable", event
            await ui.wait_for(lambda: ui.agent() is None, 30, "the agent to leave")
            left = time.monotonic() - started
        finally:
            await ui.leave()
        async with rel.livekit.api() as lk:
            res = await lk.room.list_participants(api.ListParticipantsRequest(room=room))
            assert not [p for p in res.participants if p.kind == api.ParticipantInfo.Kind.AGENT]
        # The job's process (its pid is in the job's log records) exits; the worker is back to as
        # many processes as before: its helpers and one fresh idle job process.
        job_pid = _job_pid(worker.log(), room)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            alive = {p.pid for p in main.children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE}
            if job_pid not in alive and len(alive) <= len(before):
                break
            await asyncio.sleep(0.2)
        after = [p for p in main.children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE]
        exited_after = time.monotonic() - started
        print(
            f"\nmodel unreachable: user told after {told:.1f} s, agent gone after {left:.1f} s, job process "
            f"{job_pid} exited by {exited_after:.1f} s; worker children before {sorted(before)}, after {sorted(p.pid for p in after)}"
        )
        assert job_pid not in {p.pid for p in after}, "the job's process is still running"
        assert len(after) <= len(before)
        assert "model_error" in worker.log() or "model_unavailable" in worker.log()
    finally:
        worker.stop()


async def _settle(main: psutil.Process, timeout: float = 20.0) -> None:
    """Wait until the worker's idle job process is up (its children stop changing)."""
    last: set[int] = set()
    stable_since = time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = {p.pid for p in main.children(recursive=True)}
        if now != last:
            last, stable_since = now, time.monotonic()
        elif now and time.monotonic() - stable_since > 1.5:
            return
        await asyncio.sleep(0.1)


def _job_pid(log: str, room: str) -> int:
    """The pid livekit-agents stamps on the log records of the job in `room`."""
    import re

    for line in log.splitlines():
        if f'"room": "{room}"' in line:
            found = re.search(r'"pid": (\d+)', line)
            if found:
                return int(found.group(1))
    raise AssertionError(f"no log record of the job in {room}")
