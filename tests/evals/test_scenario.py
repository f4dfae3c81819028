"""The offline scenario acts out the expectations; unknown tools and roles become problems."""

from __future__ import annotations

import pytest

from worker.evals.model import Conversation
from worker.evals.scenario import build_plan
from worker.roles import RoleRegistry

pytestmark = pytest.mark.unit


def conversation(turns: list[dict[str, object]]) -> Conversation:
    return Conversation.model_validate({"name": "c", "turns": turns})


def test_calls_then_handoff_then_reply_words() -> None:
    registry = RoleRegistry("roles")
    convo = conversation(
        [
            {
                "user": "wine with carbonara?",
                "expect": [
                    {"handoff": "sommelier"},
                    {"tool": "show_recipe", "arguments": {"recipe_id": "x"}},
                    {"tool": "find_recipes", "patterns": {"query": "pasta"}, "example": {"query": "pasta"}},
                    {"reply_contains": ["Frascati"]},
                    {"reply_excludes": ["sure"]},
                ],
            },
            {"user": "and a note?", "expect": [{"tool": "show_markdown"}]},
        ]
    )
    plan = build_plan(convo, registry.get("cooking-guide"), registry, greeting="Hi")
    first = plan.scenario.turns[0]
    assert [(c.name, c.arguments) for c in first.calls] == [
        ("show_recipe", {"recipe_id": "x"}),
        ("find_recipes", {"query": "pasta"}),
        ("ask_sommelier", {"summary": "The user said: wine with carbonara?"}),
    ]
    assert first.then[0].say == "Okay. Frascati."
    assert plan.roles == ["cooking-guide", "sommelier"]
    assert plan.problems == {}


def test_unknown_tool_role_and_missing_handoff_are_problems() -> None:
    registry = RoleRegistry("roles")
    convo = conversation(
        [
            {
                "user": "hi",
                "expect": [
                    {"tool": "show_recipie"},
                    {"handoff": "pastry-chef"},
                    {"handoff": "concierge"},
                    {"no_tool": ["launch_rocket"]},
                ],
            }
        ]
    )
    plan = build_plan(convo, registry.get("cooking-guide"), registry, greeting=None)
    assert plan.problems[(0, 0)].startswith(
        "role cooking-guide has no tool 'show_recipie' (did you mean 'show_recipe'?); its tools: find_recipes,"
    )
    assert plan.problems[(0, 1)].startswith("unknown role 'pastry-chef'")
    assert plan.problems[(0, 1)].endswith("roles: concierge, cooking-guide, sommelier")
    assert plan.problems[(0, 2)] == (
        "role cooking-guide has no handoff to concierge; its handoffs: ask_sommelier -> sommelier"
    )
    assert "no tool 'launch_rocket'" in plan.problems[(0, 3)]
    assert plan.scenario.turns[0].calls == ()
    assert plan.scenario.greeting == "Hello."
