from __future__ import annotations

import pytest
from livekit.agents.llm import ToolError

from worker.tools.arguments import ArgumentValidator

pytestmark = pytest.mark.unit

SCHEMA = {
    "type": "object",
    "properties": {
        "label": {"type": "string", "minLength": 1},
        "minutes": {"type": "integer", "minimum": 1, "maximum": 600},
        "unit": {"type": "string", "enum": ["min", "s"]},
    },
    "required": ["label", "minutes"],
    "additionalProperties": False,
}


def test_valid_arguments_pass_through_unchanged() -> None:
    v = ArgumentValidator("start_timer", SCHEMA)
    assert v.check({"label": "pasta", "minutes": 9}) == {"label": "pasta", "minutes": 9}
    assert v.check('{"label": "pasta", "minutes": 9}') == {"label": "pasta", "minutes": 9}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"label": "pasta"},
            "invalid arguments for start_timer: (arguments): 'minutes' is a required property",
        ),
        (
            {"label": "pasta", "minutes": "ten"},
            "invalid arguments for start_timer: minutes: 'ten' is not of type 'integer'",
        ),
        (
            {"label": "pasta", "minutes": 0},
            "invalid arguments for start_timer: minutes: 0 is less than the minimum of 1",
        ),
        (
            {"label": "pasta", "minutes": 3, "unit": "h"},
            "invalid arguments for start_timer: unit: 'h' is not one of ['min', 's']",
        ),
        (
            {"label": "pasta", "minutes": 3, "color": "red"},
            "invalid arguments for start_timer: (arguments): Additional properties are not allowed "
            "('color' was unexpected)",
        ),
        (
            "{not json",
            "invalid arguments for start_timer: not JSON (Expecting property name enclosed in double quotes)",
        ),
        ([1, 2], "invalid arguments for start_timer: (arguments): [1, 2] is not of type 'object'"),
    ],
)
def test_invalid_arguments_are_refused_with_a_precise_message(arguments: object, message: str) -> None:
    with pytest.raises(ToolError) as excinfo:
        ArgumentValidator("start_timer", SCHEMA).check(arguments)
    assert excinfo.value.message == message


def test_many_problems_are_capped_in_the_message() -> None:
    schema = {"type": "object", "properties": {k: {"type": "integer"} for k in "abcde"}}
    with pytest.raises(ToolError) as excinfo:
        ArgumentValidator("t", schema).check({k: "x" for k in "abcde"})
    assert excinfo.value.message.endswith("(and 2 more)")
