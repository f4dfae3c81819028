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


# ------------------------------------------------------------------------- patterns and formats


def test_a_catastrophic_pattern_runs_on_re2() -> None:
    # With Python's re, ^(a+)+$ backtracks exponentially: 25 characters took 0.55 s (security review L3),
    # 50,000 would never finish. RE2 answers in linear time.
    v = ArgumentValidator(
        "t", {"type": "object", "properties": {"s": {"type": "string", "pattern": "^(a+)+$"}}}
    )
    assert v.problems({"s": "a" * 50_000}) == []
    problems = v.problems({"s": "a" * 50_000 + "!"})
    assert len(problems) == 1 and problems[0].startswith("s: 'aaaa") and problems[0].endswith("…")


def test_patterns_have_re2_syntax_and_json_schema_meaning() -> None:
    # \p{Greek} is RE2 (and JavaScript) syntax that Python's re refuses; a pattern matches anywhere.
    schema = {
        "type": "object",
        "properties": {
            "w": {"type": "string", "pattern": r"^\p{Greek}+$"},
            "c": {"type": "string", "pattern": "colou?r"},
        },
    }
    v = ArgumentValidator("t", schema)
    assert v.problems({"w": "αβγ", "c": "the colour red"}) == []
    assert v.problems({"w": "abc", "c": "red"}) == [
        r"w: 'abc' does not match '^\\p{Greek}+$'",
        "c: 'red' does not match 'colou?r'",
    ]


def test_a_pattern_re2_cannot_run_refuses_the_value() -> None:
    v = ArgumentValidator(
        "t", {"type": "object", "properties": {"s": {"type": "string", "pattern": "(a)\\1"}}}
    )
    assert v.problems({"s": "aa"}) == [r"s: cannot be checked against the pattern '(a)\\1'"]


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        ("date-time", "2026-12-01T18:30:00+01:00", "yesterday"),
        ("date-time", "2026-12-01t18:30:00z", "2026-12-01T18:30:00"),  # the time zone is required
        ("time", "18:30:00Z", "25:00:00Z"),
        ("date", "2024-02-29", "2023-02-29"),
        ("duration", "PT20M", "20 minutes"),
        ("email", "cook@example.com", "nope"),
        ("email", "a.b+c@sub.example.co", "a@b"),
        ("hostname", "api.example.com", "-bad-.example.com"),
        ("ipv4", "192.168.0.1", "256.1.1.1"),
        ("ipv6", "2001:db8::1", "2001:db8::g"),
        ("uuid", "123e4567-e89b-12d3-a456-426614174000", "123e4567e89b12d3a456426614174000"),
    ],
)
def test_formats_are_checked(fmt: str, good: str, bad: str) -> None:
    v = ArgumentValidator("t", {"type": "object", "properties": {"x": {"type": "string", "format": fmt}}})
    assert v.problems({"x": good}) == []
    assert v.problems({"x": bad}) == [f"x: {bad!r} is not a {fmt!r}"]


def test_every_supported_format_has_a_checker() -> None:
    from worker.roles.parameters import FORMATS
    from worker.tools.formats import CHECKS

    assert set(CHECKS) == set(FORMATS)
