"""What the simulated model does with the worker's UI events (system items) and a tool's progress (an
output that asks for exact words): the scenario's `event` turns, and the tool's real answer still ahead."""

from __future__ import annotations

import json
from typing import Any

import pytest

from worker.protocol import SAY_EXACTLY
from worker.roles import UiEvent
from worker.session.ui_events import context_note
from worker.simulator.conversation import Conversation, ui_event_of
from worker.simulator.events import ClientEvent, parse_client_event
from worker.simulator.replies import Planner, Reply, ToolCall, ToolOutput
from worker.simulator.scenario import Scenario, ScenarioError
from worker.tools.background import PROGRESS

pytestmark = pytest.mark.unit

SCRIPT = """\
turns:
  - match: pasta
    say: Let me look.
    calls: [{name: find_recipes, arguments: {query: pasta}}]
    then:
      - say: Here is carbonara.
        calls: [{name: show_recipe, arguments: {recipe_id: carbonara}}]
  - event: "ingredient_(checked|unchecked)"
    say: "Got it, the {ingredient} is ready; {missing} stays as written."
  - say: An ordered turn, never taken by an event.
"""
EVENT = UiEvent(name="ingredient_checked", description="The user ticked an ingredient by hand.")
TOOLS = ["find_recipes", "show_recipe"]


def create(item: dict[str, Any]) -> ClientEvent:
    return parse_client_event(
        json.dumps({"type": "conversation.item.create", "item": item}), max_bytes=1_000_000
    )


def system(text: str, item_id: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "message",
        "role": "system",
        "content": [{"type": "input_text", "text": text}],
    }


def test_a_ui_event_item_is_answered_once_by_its_event_turn() -> None:
    c = Conversation()
    note = context_note(EVENT, {"ingredient": "spaghetti", "checked": True})
    c.create(create(system(note, "ev1")))
    planner = Planner(Scenario.from_yaml(SCRIPT))
    assert c.reply(planner, {}, TOOLS, True) == Reply(
        "Got it, the spaghetti is ready; {missing} stays as written."
    )
    assert ui_event_of(c.items[0]) == ("ingredient_checked", {"ingredient": "spaghetti", "checked": True})
    # answered: the next response has nothing new, and the ordered turn was not used up by the event
    assert planner.for_user("u1", "something else", TOOLS) == Reply(
        "An ordered turn, never taken by an event."
    )


def test_an_event_no_turn_scripts_gets_a_deterministic_note() -> None:
    c = Conversation()
    c.create(create(system(context_note(EVENT, {"ingredient": "eggs"}), "ev1")))
    reply = c.reply(Planner(), {}, [], True)
    assert reply == Reply('I see you did ingredient_checked on screen: {"ingredient":"eggs"}.')


def test_a_system_item_without_a_ui_event_is_not_one() -> None:
    assert ui_event_of(system("You are a cook.", "s")) is None
    assert ui_event_of({"type": "message", "role": "user", "content": []}) is None


def test_progress_is_said_word_for_word_and_the_scenario_waits_for_the_real_answer() -> None:
    planner = Planner(Scenario.from_yaml(SCRIPT))
    first = planner.for_user("u1", "pasta please", TOOLS)
    assert first.calls == (ToolCall("find_recipes", '{"query":"pasta"}'),)
    still = PROGRESS.format(function_name="find_recipes", call_id="c1", message="Still looking, one moment.")
    assert SAY_EXACTLY in still
    assert planner.after_tools([_out(still)], TOOLS, tools_allowed=False) == Reply(
        "Still looking, one moment."
    )
    answered = planner.after_tools([_out('{"recipes": ["carbonara"]}')], TOOLS)
    assert answered == Reply("Here is carbonara.", (ToolCall("show_recipe", '{"recipe_id":"carbonara"}'),))


def test_a_tool_answer_that_arrived_while_the_agent_spoke_is_still_answered() -> None:
    c = Conversation()
    for item in (
        {"id": "u", "type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        {
            "id": "f",
            "type": "function_call",
            "call_id": "c1_final",
            "name": "find_recipes",
            "arguments": "{}",
        },
        {"id": "o", "type": "function_call_output", "call_id": "c1_final", "output": '{"found": 2}'},
        {
            "id": "a",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Hm."}],
        },
    ):
        c.create(create(item))
    c._answered.add("u")  # the user's words were answered already (the assistant item)
    assert c.reply(Planner(), {}, TOOLS, True) == Reply('Done. find_recipes returned {"found": 2}.')


def test_an_event_turn_takes_no_match_or_transcript() -> None:
    with pytest.raises(
        ScenarioError, match="an event turn answers a UI event: it takes no match or transcript"
    ):
        Scenario.from_yaml("turns:\n  - event: x\n    match: y\n    say: z\n")


def _out(text: str) -> ToolOutput:
    return ToolOutput("find_recipes", text)
