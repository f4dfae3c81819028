"""Eval turns that send a UI event instead of words: the format, and the offline scenario's answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.evals.model import Conversation, EvalFileError, load_eval
from worker.evals.scenario import build_plan
from worker.evals.turns import event_label, said
from worker.roles import RoleRegistry

pytestmark = pytest.mark.unit

EVENTS = """\
role: cooking-guide
conversations:
  - name: follows the card
    turns:
      - event: {name: ingredient_checked, payload: {ingredient: eggs, checked: true}}
        expect:
          - reply_contains: [eggs]
          - no_tool: [check_ingredient]
      - user: what next?
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "evals" / "cooking-guide.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def test_an_event_turn_loads_and_is_labelled_by_its_event(tmp_path: Path) -> None:
    loaded = load_eval(write(tmp_path, EVENTS))
    turn = loaded.spec.conversations[0].turns[0]
    assert turn.event is not None and turn.event.payload == {"ingredient": "eggs", "checked": True}
    assert (
        said(turn)
        == event_label(turn.event)
        == '[event ingredient_checked {"ingredient": "eggs", "checked": true}]'
    )


@pytest.mark.parametrize(
    ("turn", "message"),
    [
        ("{user: hi, event: {name: x}}", "exactly one of user"),
        ("{event: {name: Not-A-Name}}", r"turns\[0\]\.event\.name"),
        ("{event: {name: x, payload: [1]}}", r"turns\[0\]\.event\.payload"),
    ],
)
def test_bad_event_turns_are_refused(tmp_path: Path, turn: str, message: str) -> None:
    text = f"conversations:\n  - name: x\n    turns:\n      - {turn}\n"
    with pytest.raises(EvalFileError, match=message):
        load_eval(write(tmp_path, text))


def test_the_offline_scenario_answers_the_event_with_the_expected_words() -> None:
    registry = RoleRegistry("roles")
    convo = Conversation.model_validate(
        {
            "name": "c",
            "turns": [
                {
                    "event": {"name": "ingredient_checked", "payload": {}},
                    "expect": [{"reply_contains": ["eggs"]}],
                },
                {"user": "next", "expect": [{"tool": "highlight_step", "arguments": {"step": 2}}]},
            ],
        }
    )
    plan = build_plan(convo, registry.get("cooking-guide"), registry, greeting="Hi")
    event, user = plan.scenario.turns
    assert (event.event, event.say, event.match) == ("ingredient_checked", "Sure. eggs.", None)
    assert event.answers_event("ingredient_checked") and not event.answers_event("ingredient_checked_twice")
    assert user.event is None and [c.name for c in user.calls] == ["highlight_step"]
