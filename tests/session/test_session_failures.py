"""The session's end in bad cases: the user leaves, the model connection is lost for good."""

from __future__ import annotations

import pytest

from tests.session.conftest import Stack

pytestmark = pytest.mark.integration


async def test_user_leaving_ends_the_session_after_the_grace_period(stack: Stack) -> None:
    ui = await stack.session("bench")
    room = ui.room_name
    await ui.wait_for(lambda: ui.agent() is not None, what="agent")
    await ui.leave()
    # The worker leaves the room once the 3 s grace period (ROLECALL_DISCONNECT_GRACE_S) is over.
    async with stack.livekit.api() as lk:
        from livekit import api

        async def agent_gone() -> bool:
            res = await lk.room.list_participants(api.ListParticipantsRequest(room=room))
            return not res.participants

        for _ in range(200):
            if await agent_gone():
                break
            import asyncio

            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the agent stayed in the room after the user left")
    assert "user did not come back within 3 s; ending" in stack.worker.log()
    report = await stack.wait_report(room)
    assert report["end_reason"] == "user_left"


async def test_user_coming_back_within_the_grace_period_keeps_the_session(stack: Stack) -> None:
    import asyncio

    ui = await stack.session("bench", {"show_card": lambda a: {"ok": True}})
    await ui.wait_for(lambda: ui.calls_to("rolecall.tools"), what="discovery")
    agent_identity = ui.agent().identity  # type: ignore[union-attr]
    await ui.leave()
    await asyncio.sleep(1.0)
    from tests.support.ui_participant import UIParticipant

    # The returning page registers its methods a moment after joining; the agent asks for its tools
    # at once and must ask again rather than take "unsupported method" for an answer.
    back = await UIParticipant(
        stack.livekit, ui.room_name, handlers={"show_card": lambda a: {"ok": True}}, register_after_s=0.6
    ).join()
    try:
        # The same agent is still there and asks the returning page for its tools again.
        await back.wait_for(lambda: back.agent() is not None, what="agent")
        assert back.agent().identity == agent_identity  # type: ignore[union-attr]
        await back.wait_for(lambda: back.calls_to("rolecall.tools"), what="re-discovery")
        await back.say_text('/call show_card {"title": "again"}')
        await back.wait_for(lambda: back.calls_to("show_card"), what="a tool call after the return")
    finally:
        await back.leave()


async def test_model_connection_lost_for_good_tells_the_user_and_ends(stack: Stack) -> None:
    sim = stack.simulator.sim
    ui = await stack.session("bench")
    try:
        await ui.wait_for(lambda: "Hello" in ui.agent_text(), what="greeting")
        # A fatal error from the model (OpenAI's insufficient_quota): livekit-agents gives up.
        conn = sim.newest_in_use()
        conn.faults.error = "insufficient_quota"
        await ui.say_text("are you there")
        event = await ui.wait_for(
            lambda: next((e for e in ui.events if e.get("type") == "error"), None),
            timeout=30,
            what="error event",
        )
        assert event["code"] == "model_unavailable"
        assert "could not be restored" in event["message"]
        # The provider's own words (quota, organisation, request ids) stay in the worker's log.
        assert "quota" not in event["message"].lower()
        assert "quota" in stack.worker.log().lower()
        await ui.wait_for(lambda: ui.agent() is None, timeout=30, what="the agent to leave")
        # Nothing said before the failure is lost: the report still holds both sides.
        report = await stack.wait_report(ui.room_name)
        assert report["end_reason"] == "model_error"
        lines = [(t["speaker"], t["text"]) for t in report["transcript"]]
        assert ("user", "are you there") in lines
        assert any(who == "agent" and "Hello" in text for who, text in lines)
    finally:
        await ui.leave()


async def test_session_limit_idle_user_gets_a_goodbye_and_the_session_ends(stack: Stack) -> None:
    stack.write_role(
        "bench-idle",
        "name: bench-idle\ntitle: Idle bench\ndescription: Short idle limit.\ninstructions: Test.\n"
        "greeting: {say: Hi.}\nlimits: {idle_timeout_s: 5}\n",
    )
    ui = await stack.session("bench-idle")
    try:
        event = await ui.wait_for(
            lambda: next((e for e in ui.events if e.get("type") == "session_limit"), None),
            timeout=30,
            what="the idle limit",
        )
        assert event == {"type": "session_limit", "limit": "idle", "limit_s": 5.0}
        await ui.wait_for(lambda: ui.agent() is None, timeout=30, what="the agent to leave")
        report = await stack.wait_report(ui.room_name)
        assert report["end_reason"] == "idle"
        assert [t["text"] for t in report["transcript"]][:1] == ["Hi."]
    finally:
        await ui.leave()
