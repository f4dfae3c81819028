"""An `api: live` role end to end: GPT-Live (the simulator's) in a LiveKit room with a page participant.

Greeting, a spoken turn, a frontend tool, an http tool and a handoff, all through delegation to the
backend, then the session report with its duration-based cost.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.session.conftest import Stack
from tests.support.ui_participant import UIParticipant

pytestmark = pytest.mark.integration


def _live_events(stack: Stack, type_: str, sent: bool = False) -> list[dict[str, Any]]:
    records = stack.sent() if sent else stack.received()
    return [r.event for r in records if r.type == type_]


def _call_outputs(stack: Stack, tool: str) -> list[str]:
    """What the worker gave the backend for each call of `tool` (`response.item.create`)."""
    calls = {
        e["event"]["item"]["call_id"]
        for e in _live_events(stack, "response.event", sent=True)
        if e["event"]["type"] == "response.output_item.done" and e["event"]["item"].get("name") == tool
    }
    return [
        e["item"]["output"]
        for e in _live_events(stack, "response.item.create")
        if e["item"].get("call_id") in calls
    ]


def _spoken_clip(path: Path, words: str) -> Path:
    subprocess.run(["espeak-ng", "-w", str(path), words], check=True, capture_output=True)
    return path


async def _output(stack: Stack, ui: UIParticipant, tool: str) -> Any:
    outputs = await ui.wait_for(lambda: _call_outputs(stack, tool), what=f"the output of {tool}")
    return json.loads(outputs[-1])


async def test_a_live_role_greets_hears_delegates_hands_off_and_reports_its_cost(
    stack: Stack, tmp_path: Path
) -> None:
    clip = _spoken_clip(tmp_path / "clip.wav", "I would like a soup")
    ui = await stack.session(
        "bench-gpt-live", {"show_card": lambda a: {"shown": a["title"]}}, vars={"user_name": "Ana"}
    )
    try:
        # The greeting, spoken by the voice model on its own connection.
        await ui.wait_for(lambda: "Hello from the live bench." in ui.agent_text(), what="the greeting")
        (start,) = _live_events(stack, "session.start")
        session = start["session"]
        assert session["model"] == "gpt-live-1" and session["audio"]["output"]["voice"] == "cedar"
        assert session["instructions"] == "Speak briefly. Hand every request to your backend."
        backend = session["delegation"]["responses"]
        assert backend["instructions"] == "You are the live test agent for Ana."
        assert backend["reasoning"] == {"effort": "low"}
        assert {t["name"] for t in backend["tools"]} == {"show_card", "lookup", "to_second", "end_session"}

        # A spoken turn: the model hears it, transcribes it, answers aloud.
        await asyncio.sleep(1.0)
        frames_before = ui.audio_frames
        await ui.publish_wav(clip)
        await ui.wait_for(
            lambda: any(t.speaker == ui.identity and "(audio" in t.text for t in ui.transcripts),
            what="the user's transcript",
        )
        await ui.wait_for(lambda: "You said: (audio" in ui.agent_text(), what="the spoken answer")
        await ui.wait_for(lambda: ui.audio_frames > frames_before + 50, what="answer audio")

        # A frontend tool and an http tool, delegated to the backend and run by the worker.
        await ui.say_text('/call show_card {"title": "Minestrone"}')
        assert await _output(stack, ui, "show_card") == {"shown": "Minestrone"}
        assert [c.arguments for c in ui.calls_to("show_card")] == [{"title": "Minestrone"}]
        await ui.wait_for(
            lambda: 'Done. show_card returned {"shown": "Minestrone"}' in ui.agent_text(), what="reply"
        )
        await ui.say_text('/call lookup {"query": "soup"}')
        found = await _output(stack, ui, "lookup")
        assert found == {"found": True, "query": "soup", "recipes": ["pasta al limone"]}

        # A handoff: same connection, the backend takes the next role's prompt and tools.
        connections = stack.simulator.sim.connection_count
        await ui.say_text('/call to_second {"summary": "Ana wants a soup."}')
        await ui.wait_for(
            lambda: ui.agent_attribute("rolecall.role") == "bench-gpt-live-second", what="handoff"
        )
        updates = [e["session"]["delegation"]["responses"] for e in _live_events(stack, "session.update")]
        assert any("You are the second live test agent." in u.get("instructions", "") for u in updates)
        assert any("Ana wants a soup." in u.get("instructions", "") for u in updates)
        # the next role's tools (second_only is a frontend tool this page does not implement)
        assert any([t["name"] for t in u.get("tools", [])] == ["end_session"] for u in updates)
        assert stack.simulator.sim.connection_count == connections
        assert len(_live_events(stack, "session.start")) == 1

        await ui.say_text("/call end_session {}")
        await ui.wait_for(lambda: ui.agent() is None, timeout=30, what="the session to end")
    finally:
        await ui.leave()

    report = await stack.wait_report(ui.room_name)
    assert report["roles"] == ["bench-gpt-live", "bench-gpt-live-second"]
    assert report["model"] == "gpt-live-1" and report["backend_model"] == "gpt-5.6-luna"
    assert [c["name"] for c in report["tool_calls"]] == ["show_card", "lookup", "to_second", "end_session"]
    usage = report["usage"]
    assert usage["seconds"] > 5 and usage["text_in"] > 0 and usage["text_out"] > 0
    assert usage["audio_in"] == usage["audio_out"] == 0  # the voice model is billed by duration
    voice = usage["seconds"] / 60 * 0.05
    tokens = (usage["text_in"] * 0.2 + usage["text_out"] * 1.2) / 1_000_000
    assert report["cost_usd"] == pytest.approx(voice + tokens, abs=1e-6)
    closed = _live_events(stack, "session.closed", sent=True)
    assert closed and closed[-1]["reason"] == "close_requested"


SOLO = """
name: bench-gpt-live-solo
title: GPT-Live solo
description: A GPT-Live role edited while its session runs.
model:
  api: live
  voice: {voice}
  live_instructions: Speak briefly.
instructions: You are version {version}.
tools:
  - {{name: {tool}, kind: frontend, description: A tool.}}
"""


async def test_live_reload_retunes_the_backend_and_leaves_the_voice_for_the_next_session(
    stack: Stack,
) -> None:
    path = stack.write_role("bench-gpt-live-solo", SOLO.format(voice="cedar", version="one", tool="tool_one"))
    ui = await stack.session("bench-gpt-live-solo", {"tool_one": lambda _: {}, "tool_two": lambda _: {}})
    try:
        await ui.wait_for(lambda: ui.calls_to("rolecall.tools"), what="discovery")
        await ui.wait_for(lambda: _live_events(stack, "session.start"), what="session.start")
        await asyncio.sleep(0.5)
        path.write_text(SOLO.format(voice="marin", version="two", tool="tool_two"))

        def retuned() -> bool:
            backends = [
                e["session"]["delegation"]["responses"] for e in _live_events(stack, "session.update")
            ]
            return any(b.get("instructions") == "You are version two." for b in backends) and any(
                [t["name"] for t in b.get("tools", [])] == ["tool_two"] for b in backends
            )

        await ui.wait_for(retuned, timeout=10, what="the edit to reach the backend")
        assert len(_live_events(stack, "session.start")) == 1  # the same connection: no restart
        log = stack.worker.log()
        assert "model.voice changed and waits for the next session" in log
        await ui.say_text("/call tool_two {}")
        await ui.wait_for(lambda: ui.calls_to("tool_two"), what="the reloaded tool to work")
    finally:
        await ui.leave()


async def test_a_fatal_gpt_live_error_ends_the_session_and_tells_the_page(stack: Stack) -> None:
    ui = await stack.session("bench-gpt-live", {"show_card": lambda a: {"shown": a["title"]}})
    try:
        await ui.wait_for(lambda: "Hello from the live bench." in ui.agent_text(), what="the greeting")
        live = stack.simulator.sim.newest_in_use()  # this session's (tests run one at a time)
        assert live.wire.name == "live"
        live.faults.error = "insufficient_quota"  # the model's next turn fails, as when the quota is gone
        await ui.say_text("/say are you there")
        event = await ui.wait_for(
            lambda: next((e for e in ui.events if e.get("type") == "error"), None), what="the error event"
        )
        assert event["code"] == "model_unavailable"
    finally:
        await ui.leave()
    report = await stack.wait_report(ui.room_name)
    assert report["end_reason"] == "model_error"
