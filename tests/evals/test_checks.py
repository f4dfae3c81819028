"""Verdicts of each expectation kind on a turn's outcome."""

from __future__ import annotations

from typing import Any

import pytest

from worker.evals import CallOutcome, Expect, TurnOutcome, check

pytestmark = pytest.mark.unit


def expect(**fields: Any) -> Expect:
    return Expect.model_validate(fields)


def turn(**fields: Any) -> TurnOutcome:
    return TurnOutcome(user="hi", **fields)


SHOWN = CallOutcome("show_recipe", {"recipe_id": "carbonara"}, '{"shown": true}', delivered=True)


def test_tool_called_with_matching_arguments_passes() -> None:
    outcome = turn(calls=[SHOWN], replies=["Here it is."], responses=2)
    assert check(expect(tool="show_recipe", arguments={"recipe_id": "carbonara"}), outcome).passed
    assert check(expect(tool="show_recipe", patterns={"recipe_id": "^carb"}), outcome).passed


def test_tool_not_called_says_what_was_called_instead() -> None:
    wrong = CallOutcome("highlight_step", {"step": 1}, '{"ok": true}')
    verdict = check(expect(tool="show_recipe"), turn(calls=[wrong], replies=["Step one."]))
    assert not verdict.passed
    assert verdict.detail.startswith('not called; calls: highlight_step {"step": 1} -> ok')
    assert 'the reply was "Step one."' in verdict.detail


def test_tool_refused_by_the_validator_fails_with_its_message() -> None:
    refused = CallOutcome(
        "start_timer",
        {"label": "pasta", "seconds": "ten"},
        "invalid arguments for start_timer: seconds: 'ten' is not of type 'integer'",
        is_error=True,
    )
    verdict = check(expect(tool="start_timer", arguments={"label": "pasta"}), turn(calls=[refused]))
    assert not verdict.passed
    assert (
        "the call failed: invalid arguments for start_timer: seconds: 'ten' is not of type" in verdict.detail
    )


def test_a_result_that_never_reached_the_model_fails() -> None:
    lost = CallOutcome("show_recipe", {"recipe_id": "carbonara"}, "{}", delivered=False)
    verdict = check(expect(tool="show_recipe"), turn(calls=[lost]))
    assert verdict.detail.endswith("its result never reached the model")


def test_any_matching_call_of_several_passes() -> None:
    first = CallOutcome("start_timer", {"seconds": "x"}, "invalid", is_error=True)
    second = CallOutcome("start_timer", {"seconds": 600}, "{}")
    assert check(expect(tool="start_timer", arguments={"seconds": 600}), turn(calls=[first, second])).passed


def test_handoff() -> None:
    call = CallOutcome("ask_sommelier", {"summary": "carbonara wine"}, "Handoff done")
    moved = turn(calls=[call], roles_entered=["sommelier"])
    assert check(expect(handoff="sommelier"), moved).passed
    tools = {"sommelier": {"ask_sommelier"}}
    assert check(
        expect(handoff="sommelier", patterns={"summary": "carbonara"}), moved, handoff_tools=tools
    ).passed
    bad = check(expect(handoff="sommelier", patterns={"summary": "risotto"}), moved, handoff_tools=tools)
    assert "does not match /risotto/" in bad.detail
    stayed = check(expect(handoff="sommelier"), turn(replies=["A Frascati."]))
    assert stayed.detail == "no handoff; no tool was called"


def test_no_tool() -> None:
    assert check(expect(no_tool=True), turn()).passed
    assert not check(expect(no_tool=True), turn(calls=[SHOWN])).passed
    assert check(expect(no_tool=["find_recipes"]), turn(calls=[SHOWN])).passed
    assert check(expect(no_tool=["show_recipe"]), turn(calls=[SHOWN])).detail.startswith("called show_recipe")


def test_reply_words_and_max_turns() -> None:
    outcome = turn(replies=["That was a stupid", "question."], responses=3)
    assert check(expect(reply_contains=["question"]), outcome).passed
    assert check(expect(reply_contains=["wine"]), outcome).detail.startswith("missing 'wine'")
    verdict = check(expect(reply_excludes=["stupid"]), outcome)
    assert verdict.detail == "said 'stupid'; the reply was \"That was a stupid question.\""
    assert check(expect(max_turns=3), outcome).passed
    assert check(expect(max_turns=2), outcome).detail.startswith("3 model turns")


def test_problems_and_incomplete_turns_fail_every_kind() -> None:
    assert (
        check(expect(no_tool=True), turn(), problem="role x has no tool 'y'").detail
        == "role x has no tool 'y'"
    )
    verdict = check(expect(no_tool=True), turn(error="no complete answer within 20 s"))
    assert verdict.detail == "the turn did not complete: no complete answer within 20 s"
