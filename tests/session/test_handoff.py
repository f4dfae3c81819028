"""Handoffs: concierge → sommelier → back, the conversation and the model connection kept, the UI told."""

from __future__ import annotations

import pytest

from tests.session.conftest import Stack

pytestmark = pytest.mark.integration

SUMMARY = '{"summary": "The user is making risotto and wants a white wine."}'


async def test_handoff_concierge_to_sommelier_and_back_keeps_the_conversation(stack: Stack) -> None:
    # user_name is the concierge's variable; the sommelier does not declare it.
    ui = await stack.session("concierge", vars={"user_name": "Ana"})
    sim = stack.simulator.sim
    try:
        await ui.wait_for(lambda: ui.agent_attribute("rolecall.role") == "concierge", what="concierge")
        await ui.say_text("I am making risotto tonight")
        await ui.wait_for(lambda: "risotto" in ui.agent_text(), what="a first exchange")
        connections_before = sim.connection_count  # this session's model connection is open by now

        await ui.say_text(f"/call to_sommelier {SUMMARY}")
        await ui.wait_for(lambda: ui.agent_attribute("rolecall.role") == "sommelier", what="the sommelier")
        assert ui.agent_attribute("rolecall.role_title") == "Sommelier"
        # The attribute is set first, then the event follows on its text stream.
        await ui.wait_for(
            lambda: {"type": "role", "name": "sommelier", "title": "Sommelier"} in ui.events,
            what="the role event",
        )

        # Same model connection: instructions updated in place, nothing deleted from the conversation.
        updates = [
            e for e in stack.client_events("session.update")[-10:] if "instructions" in e.get("session", {})
        ]
        assert any(
            "take over the conversation from Concierge" in e["session"]["instructions"] for e in updates
        )
        assert "risotto" in updates[-1]["session"]["instructions"]  # the summary reached the sommelier
        assert sim.connection_count == connections_before
        tool_updates = [
            e for e in stack.client_events("session.update")[-10:] if e.get("session", {}).get("tools")
        ]
        assert "back_to_concierge" in {t["name"] for t in tool_updates[-1]["session"]["tools"]}
        assert not [r for r in stack.received() if r.type == "conversation.item.delete"]

        await ui.say_text('/call back_to_concierge {"summary": "Picked a Soave."}')
        await ui.wait_for(
            lambda: ui.agent_attribute("rolecall.role") == "concierge", what="back to concierge"
        )
        assert sim.connection_count == connections_before
    finally:
        await ui.leave()


async def test_handoff_to_a_role_that_no_longer_exists_fails_softly(stack: Stack) -> None:
    stack.write_role(
        "bench-orphan",
        "name: bench-orphan\ntitle: Orphan\ndescription: Hands off to a role deleted later.\n"
        "instructions: Test.\ntools:\n  - {name: go, kind: handoff, description: Go., target: bench-gone}\n",
    )
    gone = stack.write_role(
        "bench-gone", "name: bench-gone\ntitle: Gone\ndescription: Deleted.\ninstructions: x\n"
    )
    ui = await stack.session("bench-orphan")
    try:
        await ui.wait_for(lambda: ui.agent_attribute("rolecall.role") == "bench-orphan", what="agent")
        gone.unlink()
        await ui.say_text('/call go {"summary": "x"}')
        output = await stack.wait_tool_output("go")
        assert output.startswith("go failed: the role 'bench-gone' is not available"), output
        assert ui.agent_attribute("rolecall.role") == "bench-orphan"
    finally:
        await ui.leave()
