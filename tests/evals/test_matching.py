"""Argument values and patterns, reply words, and counting model turns."""

from __future__ import annotations

import pytest

from worker.evals.matching import (
    argument_problems,
    count_responses,
    value_matches,
    words_missing,
    words_present,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("actual", "expected", "ok"),
    [
        (600, 600, True),
        (600.0, 600, True),
        (True, 1, False),
        (1, True, False),
        ("a", "a", True),
        ({"a": 1, "b": 2}, {"a": 1}, True),
        ({"a": {"x": 1, "y": 2}}, {"a": {"x": 1}}, True),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ([1, 2], [1, 2], True),
        ([1, 2], [1], False),
        ("1", 1, False),
        (None, None, True),
    ],
)
def test_value_matches(actual: object, expected: object, ok: bool) -> None:
    assert value_matches(actual, expected) is ok


def test_argument_problems_values_and_patterns() -> None:
    args = {"query": "Quick Pasta", "max_results": 3, "diet": ["vegan"]}
    assert argument_problems(args, {"max_results": 3}, {"query": "pasta", "diet": "vegan"}) == []
    assert argument_problems(args, {"max_results": 5}) == ["max_results is 3, expected 5"]
    assert argument_problems(args, {"missing": 1}) == ["missing is missing (expected 1)"]
    assert argument_problems(args, patterns={"query": "^rice"}) == [
        'query is "Quick Pasta", which does not match /^rice/'
    ]
    assert argument_problems(args, patterns={"other": "x"}) == ["other is missing (expected to match /x/)"]
    assert argument_problems("not json", {"a": 1}) == ['the arguments are not an object: "not json"']


def test_words_are_whole_and_case_insensitive() -> None:
    reply = "A red wine is ready. Try the Pinot Noir!"
    assert words_missing(reply, ["RED", "pinot noir", "white"]) == ["white"]
    assert words_present(reply, ["rea", "ready", "noir!"]) == ["ready", "noir!"]
    assert words_missing("", ["x"]) == ["x"]


@pytest.mark.parametrize(
    ("kinds", "count"),
    [
        ([], 0),
        (["message"], 1),
        (["message", "function_call", "function_call_output", "message"], 2),
        (["function_call", "function_call", "function_call_output", "function_call_output", "message"], 2),
        (["function_call", "function_call_output"], 1),
        (["function_call", "function_call_output", "function_call", "function_call_output", "message"], 3),
    ],
)
def test_count_responses(kinds: list[str], count: int) -> None:
    assert count_responses(kinds) == count
