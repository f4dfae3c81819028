"""Speech in, speech out, and the report a session leaves behind."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from livekit import rtc

from tests.session.conftest import Stack

pytestmark = pytest.mark.integration


def _spoken_clip(path: Path, words: str) -> Path:
    subprocess.run(["espeak-ng", "-w", str(path), words], check=True, capture_output=True)
    return path


async def test_spoken_clip_becomes_a_transcript_and_an_audio_reply(stack: Stack, tmp_path: Path) -> None:
    clip = _spoken_clip(tmp_path / "clip.wav", "I would like to cook pasta tonight")
    ui = await stack.session("bench")
    try:
        await ui.wait_for(lambda: "Hello" in ui.agent_text(), what="greeting")
        # Let the greeting finish: livekit-agents ignores the user's audio during the agent's first
        # seconds of speech (echo-cancellation warm-up).
        await asyncio.sleep(4.0)
        frames_before = ui.audio_frames
        await ui.publish_wav(clip)
        await ui.wait_for(
            lambda: any(r.type == "input_audio_buffer.speech_stopped" for r in stack.sent()),
            what="speech started and stopped at the model",
        )
        assert any(r.type == "input_audio_buffer.speech_started" for r in stack.sent())
        appends = [r for r in stack.received() if r.type == "input_audio_buffer.append"]
        assert len(appends) > 20  # 100 ms chunks of the clip and the silence after it
        # The user's words reach the page as a transcript, and the agent answers aloud.
        await ui.wait_for(
            lambda: any(t.speaker == "user" and "(audio" in t.text for t in ui.transcripts),
            what="user transcript",
        )
        await ui.wait_for(lambda: "You said: (audio" in ui.agent_text(), what="the agent's reply")
        await ui.wait_for(lambda: ui.audio_frames > frames_before + 50, what="reply audio")
    finally:
        await ui.leave()


async def test_session_report_is_posted_signed_to_the_webhook_with_transcript_and_tool_calls(
    stack: Stack,
) -> None:
    def fail(_: dict) -> None:
        raise rtc.RpcError(rtc.RpcError.ErrorCode.APPLICATION_ERROR, "no oven")

    ui = await stack.session("bench", {"show_card": lambda a: {"shown": a["title"]}, "fail_card": fail})
    try:
        await ui.wait_for(lambda: "Hello" in ui.agent_text(), what="greeting")
        await ui.say_text('/call show_card {"title": "Tiramisu"}')
        await ui.wait_for(lambda: "Done. show_card returned" in ui.agent_text(), what="the first reply")
        await ui.say_text("/call fail_card {}")
        await ui.wait_for(lambda: "Done. fail_card returned" in ui.agent_text(), what="the second reply")
        await ui.say_text("/call end_session {}")
        await ui.wait_for(lambda: ui.agent() is None, timeout=30, what="the session to end")
    finally:
        await ui.leave()

    def report() -> dict | None:
        for r in stack.app.received:
            if r.path == "/hook" and isinstance(r.body, dict) and r.body.get("room") == ui.room_name:
                return r.body
        return None

    body = await ui.wait_for(report, timeout=15, what="the webhook")
    hook = next(r for r in stack.app.received if r.path == "/hook" and r.body is body)
    assert hook.signature_ok, hook.signature_error
    assert hook.envelope["type"] == "session.ended" and hook.headers["webhook-id"] == hook.envelope["id"]
    assert body["complete"] is True and [v["role"] for v in body["role_versions"]] == ["bench"]
    assert body["roles"] == ["bench"]
    assert body["end_reason"] == "end_session"
    calls = [(c["name"], c["outcome"]) for c in body["tool_calls"]]
    assert calls == [("show_card", "ok"), ("fail_card", "error"), ("end_session", "ok")]
    assert body["tool_calls"][0]["arguments"] == {"title": "Tiramisu"}
    assert body["tool_calls"][0]["latency_ms"] > 0
    said = [(line["speaker"], line["text"]) for line in body["transcript"]]
    assert ("user", '/call show_card {"title": "Tiramisu"}') in said
    assert any(speaker == "agent" and text.startswith("Hello") for speaker, text in said)
    assert any(speaker == "agent" and text.startswith("Done. show_card returned") for speaker, text in said)
    assert body["usage"]["audio_out"] > 0 and body["cost_usd"] > 0


async def test_bad_variables_are_refused_with_a_message_for_the_user(stack: Stack) -> None:
    ui = await stack.session("bench", vars={"no_such_var": "x"})
    try:
        event = await ui.wait_for(
            lambda: next((e for e in ui.events if e.get("type") == "error"), None), what="error event"
        )
        assert event["code"] == "role_error"
        assert "no_such_var" in event["message"]
        assert "/tmp" not in event["message"]  # no server paths reach the page
    finally:
        await ui.leave()
