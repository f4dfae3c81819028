"""/call and /say parsing."""

from __future__ import annotations

import pytest

from worker.simulator.commands import CallCommand, CommandError, SayCommand, parse_command

pytestmark = pytest.mark.unit


def test_call_with_arguments() -> None:
    assert parse_command('/call show_recipe {"recipe_id": "x", "n": 2}') == CallCommand(
        "show_recipe", '{"recipe_id":"x","n":2}'
    )


def test_call_without_arguments_means_empty_object() -> None:
    assert parse_command("  /call end_session  ") == CallCommand("end_session", "{}")


def test_say() -> None:
    assert parse_command("/say Hello   there") == SayCommand("Hello   there")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("/call", "usage"),
        ("/say", "usage"),
        ("/call bad.name {}", "invalid tool name"),
        ("/call x {nope", "not valid JSON"),
        ("/call x [1, 2]", "JSON object"),
    ],
)
def test_errors(text: str, fragment: str) -> None:
    result = parse_command(text)
    assert isinstance(result, CommandError)
    assert fragment in result.message


@pytest.mark.parametrize("text", ["hello", "/help", "/calling all", "say /call x"])
def test_not_commands(text: str) -> None:
    assert parse_command(text) is None
