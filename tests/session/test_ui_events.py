"""UI events over the real stack: the page's `rolecall.event` RPC, as context for the model (a system
item, never a user turn), the agent answering as `respond` says, and every way an event is refused while
the session goes on."""

from __future__ import annotations

import json
from typing import Any

import pytest
from livekit import rtc

from tests.session.conftest import Stack
from tests.support.ui_participant import UIParticipant
from worker.protocol import EVENT_METHOD

pytestmark = pytest.mark.integration

ROLE = """
name: events
title: Events bench
description: A role that takes UI events.
model:
  modalities: [audio]
  turn_detection: {type: server_vad, silence_duration_ms: 400}
greeting:
  say: Hello from the events bench.
instructions: You are a test agent that follows what the user does on screen.
events:
  - name: card_tapped
    description: The user tapped a card.
    respond: now
    payload: {type: object, properties: {card: {type: string, maxLength: 40}}, required: [card], additionalProperties: false}
    max_bytes: 64
  - name: noted
    description: Something to know, no answer needed.
    payload: {type: object, properties: {what: {type: string}}, required: [what]}
  - name: later
    description: Worth a word once the agent is quiet.
    respond: when_idle
  - name: flood
    description: Sent too often.
    rate_limit: {burst: 2, per_minute: 1}
tools:
  - {name: end_session, kind: builtin, builtin: end_session, description: End the call.}
"""


async def send_event(ui: UIParticipant, name: str, payload: Any) -> dict[str, Any]:
    """Call the agent's EVENT_METHOD as the page does; the JSON reply."""
    agent = ui.agent()
    assert agent is not None
    reply = await ui.room.local_participant.perform_rpc(
        destination_identity=agent.identity,
        method=EVENT_METHOD,
        payload=json.dumps({"name": name, "payload": payload}),
    )
    result: dict[str, Any] = json.loads(reply)
    return result


async def refused(ui: UIParticipant, name: str, payload: Any) -> rtc.RpcError:
    with pytest.raises(rtc.RpcError) as caught:
        await send_event(ui, name, payload)
    return caught.value


def received(stack: Stack) -> list[dict[str, Any]]:
    """The client events the model received since this test's session began, in order."""
    return [r.event for r in stack.received()]


def system_items(stack: Stack) -> list[str]:
    return [
        "".join(c.get("text", "") for c in e["item"].get("content", []))
        for e in received(stack)
        if e["type"] == "conversation.item.create" and e["item"].get("role") == "system"
    ]


@pytest.fixture
def role(stack: Stack) -> str:
    stack.write_role("events", ROLE)
    return "events"


async def started(stack: Stack, role: str) -> UIParticipant:
    ui = await stack.session(role)
    await ui.wait_for(lambda: "Hello from the events bench" in ui.agent_text(), what="greeting")
    await ui.wait_for(lambda: ui.agent() is not None, what="agent")
    return ui


async def test_an_event_with_respond_now_is_context_and_gets_an_answer(stack: Stack, role: str) -> None:
    ui = await started(stack, role)
    try:
        assert await send_event(ui, "card_tapped", {"card": "carbonara"}) == {
            "name": "card_tapped",
            "respond": "now",
        }
        await ui.wait_for(lambda: "I see you did card_tapped on screen" in ui.agent_text(), what="the answer")
        events = received(stack)
        at = next(
            i
            for i, e in enumerate(events)
            if e["type"] == "conversation.item.create" and e["item"].get("role") == "system"
        )
        item = events[at]["item"]
        assert item["type"] == "message" and item["role"] == "system"  # context, never a user turn
        text = item["content"][0]["text"]
        assert '<ui_event name="card_tapped">{"card":"carbonara"}</ui_event>' in text
        assert "The user tapped a card." in text
        assert any(e["type"] == "response.create" for e in events[at + 1 :])
        assert not [
            e
            for e in events
            if e["type"] == "conversation.item.create"
            and e["item"].get("role") == "user"
            and "carbonara" in str(e)
        ]
    finally:
        await ui.leave()


async def test_an_event_with_respond_never_is_context_only(stack: Stack, role: str) -> None:
    ui = await started(stack, role)
    try:
        assert (await send_event(ui, "noted", {"what": "the oven is on"}))["respond"] == "never"
        await ui.wait_for(
            lambda: any("the oven is on" in t for t in system_items(stack)), what="the context item"
        )
        await ui.say_text("/say next")
        await ui.wait_for(lambda: "next" in ui.agent_text(), what="the reply to the user")
        events = received(stack)
        at = next(i for i, e in enumerate(events) if "the oven is on" in json.dumps(e))
        typed = next(i for i, e in enumerate(events) if "/say next" in json.dumps(e))
        # No response was asked for between the event and the user's next words.
        assert not [e for e in events[at:typed] if e["type"] == "response.create"]
    finally:
        await ui.leave()


async def test_an_event_with_respond_when_idle_is_answered_once_the_agent_is_quiet(
    stack: Stack, role: str
) -> None:
    ui = await started(stack, role)
    try:
        assert (await send_event(ui, "later", {}))["respond"] == "when_idle"
        await ui.wait_for(lambda: "I see you did later on screen" in ui.agent_text(), what="the answer")
    finally:
        await ui.leave()


async def test_bad_events_are_refused_clearly_and_the_session_goes_on(stack: Stack, role: str) -> None:
    ui = await started(stack, role)
    intruder = UIParticipant(stack.livekit, ui.room_name, identity="intruder")
    await intruder.join()
    try:
        unknown = await refused(ui, "launch_rocket", {})
        assert (unknown.code, unknown.data) == (1500, "unknown_event")
        assert unknown.message == (
            "role events takes no UI event 'launch_rocket' (its events: card_tapped, noted, later, flood)"
        )
        invalid = await refused(ui, "card_tapped", {"card": 7})
        assert invalid.data == "invalid_payload"
        assert invalid.message == "invalid payload for card_tapped: card: 7 is not of type 'string'"
        large = await refused(ui, "card_tapped", {"card": "x" * 80})
        assert large.data == "too_large" and "over its limit of 64" in large.message
        not_json = await refused(ui, "flood", "not an object")
        assert not_json.data == "invalid_payload"
        await send_event(ui, "flood", {})
        await send_event(ui, "flood", {})
        flood = await refused(ui, "flood", {})
        assert flood.data == "too_fast" and flood.message.startswith("too many flood events: wait")
        await intruder.wait_for(lambda: intruder.agent() is not None, what="the agent, seen by the intruder")
        forged = await refused(intruder, "card_tapped", {"card": "forged"})
        assert (forged.data, forged.message) == ("not_allowed", "only the session's user may send UI events")
        assert not any("forged" in t for t in system_items(stack))
        await ui.say_text("still there")
        await ui.wait_for(lambda: "You said: still there" in ui.agent_text(), what="the session going on")
        await ui.say_text("/call end_session {}")
        report = await stack.wait_report(ui.room_name)
        outcomes = [(e["name"], e["outcome"]) for e in report["ui_events"]]
        assert outcomes == [
            ("launch_rocket", "refused"),
            ("card_tapped", "refused"),
            ("card_tapped", "refused"),
            ("flood", "accepted"),
            ("flood", "accepted"),
            ("flood", "refused"),
        ]
    finally:
        await intruder.leave()
        await ui.leave()
