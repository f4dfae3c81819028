"""The demo in real headless Chromium against the real stack (see conftest.py).

Screenshots land in tests/artifacts/browser/ (git-ignored).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from livekit import api

from tests.browser.conftest import BrowserStack

pytestmark = pytest.mark.browser


def test_spoken_request_shows_the_recipe_card(browser_stack: BrowserStack) -> None:
    result = browser_stack.run("voice")
    seen = result["observed"]
    assert seen["greeting"].endswith("Hi! I'm your cooking guide. What would you like to cook today?")
    assert seen["recipeTitle"] == "Spaghetti Carbonara"
    assert seen["ingredients"] == 6 and seen["steps"] == 7
    assert any("I'd like to cook pasta tonight." in line for line in seen["userLines"])
    assert seen["banner"] is None
    # the model called the http tool, then the page's tool, and heard back from both
    assert any("spaghetti-carbonara" in out for out in browser_stack.tool_outputs("find_recipes"))
    shown = [json.loads(out) for out in browser_stack.tool_outputs("show_recipe")]
    assert {"shown": "Spaghetti Carbonara", "ingredients": 6, "steps": 7} in shown


def test_typed_call_starts_a_timer_that_counts_down(browser_stack: BrowserStack) -> None:
    result = browser_stack.run("timer")
    timer = result["observed"]["timer"]
    assert 0 < timer["later"] < timer["first"] <= 30
    assert timer["clock"].startswith("0:")
    assert result["observed"]["toolLine"] == "true"
    assert {"started": "eggs", "seconds": 30} in [
        json.loads(o) for o in browser_stack.tool_outputs("start_timer")
    ]


def test_handoff_changes_the_persona(browser_stack: BrowserStack) -> None:
    result = browser_stack.run("handoff")
    seen = result["observed"]
    assert seen["personaBefore"] == "Cooking Guide"
    assert seen["personaAfter"] == "Sommelier"
    assert seen["initialsAfter"] == "So"
    assert seen["accentAfter"] != seen["accentBefore"]
    assert browser_stack.function_calls("ask_sommelier")


def test_a_failing_handler_leaves_the_page_and_the_agent_working(browser_stack: BrowserStack) -> None:
    result = browser_stack.run("failing-tool")
    seen = result["observed"]
    assert 'there is no recipe with id "does-not-exist"' in seen["failure"]
    assert any("could not find that recipe" in line for line in seen["agentLines"])
    assert seen["recipeTitle"] == "Spaghetti Carbonara"
    assert seen["connection"] == "Live"
    assert not [line for line in result["console"] if line.startswith("pageerror")]
    outputs = browser_stack.tool_outputs("show_recipe")
    assert any("does-not-exist" in out for out in outputs), outputs


async def test_the_kitchen_ui_and_bringing_a_dropped_agent_back(
    browser_stack: BrowserStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready = tmp_path / "ready"
    monkeypatch.setenv("READY_FILE", str(ready))
    known = await browser_stack.room_names()
    page = asyncio.create_task(asyncio.to_thread(browser_stack.run, "kitchen-and-return"))
    async with asyncio.timeout(120):
        while not ready.exists():
            assert not page.done(), page.result()
            await asyncio.sleep(0.2)
    # The agent drops out, as when its worker dies: LiveKit removes it from this page's room (earlier
    # scenarios' rooms may still hold their agents for the grace period).
    room, _ = await browser_stack.page_room(known)
    async with browser_stack.livekit.api() as lk:
        listing = await lk.room.list_participants(api.ListParticipantsRequest(room=room))
        agents = [p.identity for p in listing.participants if p.kind == api.ParticipantInfo.Kind.AGENT]
        assert len(agents) == 1, agents
        await lk.room.remove_participant(api.RoomParticipantIdentity(room=room, identity=agents[0]))
    result = await page
    seen = result["observed"]
    assert seen["checked"] == ["spaghetti"]
    assert seen["currentStep"] == 1
    assert seen["noteTitle"] == "Tips" and seen["noteBold"] == "Salt"
    assert seen["noteItems"] == ["taste it", "then add pasta"]
    assert "agent" in seen["bannerWhileGone"].lower()
    assert seen["recipeStillShown"] == "Spaghetti Carbonara"
    assert seen["connection"] == "Live"


def test_what_the_user_does_by_hand_reaches_the_agent_and_a_slow_tool_shows_a_card(
    browser_stack: BrowserStack,
) -> None:
    sent_before = len(browser_stack.simulator.sim.received)
    result = browser_stack.run("hand-tick")
    seen = result["observed"]
    # The search showed its card (with what is searched for) and it went once the search answered.
    assert seen["activityCards"] == ["find_recipes: Searching recipes for “quick pasta”…"]
    assert seen["checked"] == ["spaghetti"] and seen["currentStep"] == 2
    assert any("Got it, the spaghetti is ready" in line for line in seen["agentLines"])
    assert any("Okay, step 2" in line for line in seen["agentLines"])
    # The model got the hand-ticked ingredient as a system item (context, not the user's words), and a
    # response was asked for after it (the role's `respond: now`); the tapped step too.
    received = [r.event for r in browser_stack.simulator.sim.received[sent_before:]]
    systems = [
        (i, e["item"]["content"][0]["text"])
        for i, e in enumerate(received)
        if e["type"] == "conversation.item.create" and e["item"].get("role") == "system"
    ]
    ticked = '<ui_event name="ingredient_checked">{"ingredient":"spaghetti","checked":true}</ui_event>'
    at = next(i for i, text in systems if ticked in text)
    assert any(e["type"] == "response.create" for e in received[at + 1 :])
    assert any('<ui_event name="step_selected">{"step":2}</ui_event>' in text for _, text in systems)
    users = [
        e for e in received if e["type"] == "conversation.item.create" and e["item"].get("role") == "user"
    ]
    assert not any("ui_event" in json.dumps(e) for e in users)
