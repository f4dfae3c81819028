"""A session from dispatch to end: greeting, transcripts, unknown roles, end_session."""

from __future__ import annotations

import json

import pytest

from tests.session.conftest import Stack
from tests.support.ui_participant import UIParticipant

pytestmark = pytest.mark.integration


async def test_dispatch_by_role_greets_with_audio_and_announces_the_role(stack: Stack) -> None:
    ui = await stack.session("bench", handlers={"show_card": lambda a: {"shown": True}})
    try:
        await ui.wait_for(lambda: ui.agent_attribute("rolecall.role") == "bench", what="role attribute")
        assert ui.agent_attribute("rolecall.role_title") == "Test bench"
        await ui.wait_for(lambda: ui.audio_frames > 20, what="greeting audio")
        await ui.wait_for(lambda: "Hello" in ui.agent_text(), what="greeting transcript")
        # The page was asked which tools it implements, before the greeting.
        assert ui.calls_to("rolecall.tools")
    finally:
        await ui.leave()


async def test_unknown_role_tells_the_user_and_ends_the_job(stack: Stack) -> None:
    ui = await stack.session("no-such-role")
    try:
        event = await ui.wait_for(
            lambda: next((e for e in ui.events if e.get("type") == "error"), None), what="error event"
        )
        assert event["code"] == "unknown_role"
        assert "unknown role 'no-such-role'" in event["message"]
        assert "bench" in event["message"]  # the hint lists the valid roles
        await ui.wait_for(lambda: ui.agent() is None, timeout=15, what="the agent to leave")
    finally:
        await ui.leave()


async def test_typed_text_gets_a_reply_and_both_sides_reach_the_transcript(stack: Stack) -> None:
    ui = await stack.session("bench")
    try:
        await ui.wait_for(lambda: "Hello" in ui.agent_text(), what="greeting")
        await ui.say_text("what is on the menu")
        await ui.wait_for(lambda: "You said: what is on the menu" in ui.agent_text(), what="reply")
    finally:
        await ui.leave()


async def test_end_session_says_goodbye_and_leaves(stack: Stack) -> None:
    ui = await stack.session("bench")
    try:
        await ui.wait_for(lambda: ui.agent() is not None, what="agent")
        await ui.say_text("/call end_session {}")
        output = await stack.wait_tool_output("end_session")
        assert json.loads(output)["ending"] is True
        await ui.wait_for(lambda: ui.agent() is None, timeout=30, what="the agent to leave after goodbye")
    finally:
        await ui.leave()


_ = UIParticipant
