"""Scenario files and the reply planner that plays them."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.errors import FileError
from worker.simulator.replies import DEFAULT_GREETING, Planner, Reply, ToolCall, ToolOutput
from worker.simulator.scenario import Scenario, ScenarioError

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """\
greeting: Hi!
fallback: "Sorry: {text}"
turns:
  - match: "timer"
    say: Starting a timer.
    calls: [{name: start_timer, arguments: {seconds: 60}}]
    then:
      - say: Timer running.
  - transcript: I want pasta
    say: Pasta it is.
  - say: Second ordered turn.
"""


def error_of(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        Scenario.from_yaml(text, source="s.yaml")
    return info.value


def test_example_scenarios_load() -> None:
    files = sorted((REPO / "scenarios").glob("*.yaml"))
    assert files
    for f in files:
        assert Scenario.load(f).turns


def test_parse() -> None:
    s = Scenario.from_yaml(SCRIPT)
    assert s.greeting == "Hi!"
    assert [t.match for t in s.turns] == ["timer", None, None]
    assert s.turns[0].calls[0].arguments == {"seconds": 60}
    assert s.turns[0].matches("Set a TIMER please")


@pytest.mark.parametrize(
    ("text", "line", "column", "field", "fragment"),
    [
        ("turns:\n  - say: hi\n    sya: typo\n", 3, 5, "turns.0.sya", "unknown field"),
        ("turns:\n  - say: hi\n  - transcript: only\n", 3, 5, "turns.1", "needs `say`, `calls` or both"),
        ("turns:\n  - match: '('\n    say: x\n", 2, 12, "turns.0.match", "regular expression"),
        (
            "turns:\n  - say: x\n    calls:\n      - name: 'no spaces'\n",
            4,
            15,
            "turns.0.calls.0.name",
            "pattern",
        ),
        ("greeting: [1, 2]\n", 1, 11, "greeting", "string"),
        ("turns: [\n", 2, 1, "", "not valid YAML"),
        ("turns: [a, a]\nturns: []\n", 2, 1, "", "duplicate key 'turns'"),
        ("- just a list\n", 1, 1, "", "top level"),
    ],
)
def test_errors_name_file_line_column_and_field(
    text: str, line: int, column: int, field: str, fragment: str
) -> None:
    err = error_of(text)
    assert err.file == "s.yaml"
    assert err.field == field
    assert fragment in str(err)
    assert (err.line, err.column) == (line, column)
    assert str(err).startswith(f"s.yaml:{line}:{column}: ")


def test_a_scenario_error_is_a_file_error() -> None:
    err = error_of("turns: 1\n")
    assert isinstance(err, FileError) and isinstance(err, ValueError)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        Scenario.load(tmp_path / "nope.yaml")


def test_empty_file_is_an_empty_scenario(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("")
    assert Scenario.load(tmp_path / "empty.yaml") == Scenario()


def test_planner_without_scenario_answers_from_the_users_words() -> None:
    p = Planner()
    assert p.for_user("i1", "  hello   world ", []) == Reply("You said: hello world")
    assert p.without_input() == Reply(DEFAULT_GREETING)
    assert p.transcript_for_audio("i2", 1500) == "(audio, 1.5 s)"


def test_planner_says_the_words_a_response_asks_for_verbatim() -> None:
    p = Planner()
    asked = "Say exactly this, and nothing else: Welcome back, Ana."
    assert p.without_input(asked) == Reply("Welcome back, Ana.")
    assert p.without_input('Greet the user. Then say exactly: "Hi there."') == Reply("Hi there.")
    assert p.without_input("Greet the user warmly.") == Reply(DEFAULT_GREETING)
    # A scenario's greeting is the script: it wins.
    assert Planner(Scenario.from_yaml(SCRIPT)).without_input(asked) == Reply("Hi!")


def test_planner_matches_then_orders_then_falls_back() -> None:
    p = Planner(Scenario.from_yaml(SCRIPT))
    tools = ["start_timer"]
    assert p.without_input() == Reply("Hi!")
    assert p.for_user("a", "hello", tools) == Reply("Pasta it is.")  # first ordered turn
    timer = p.for_user("b", "a timer please", tools)
    assert timer == Reply("Starting a timer.", (ToolCall("start_timer", '{"seconds":60}'),))
    assert p.after_tools([ToolOutput("start_timer", "ok")], tools) == Reply("Timer running.")
    assert p.after_tools([ToolOutput("start_timer", "ok")], tools) == Reply("Done. start_timer returned ok.")
    assert p.for_user("c", "next", tools) == Reply("Second ordered turn.")
    assert p.for_user("d", "more?", tools) == Reply("Sorry: more?")
    assert p.for_user("e", "timer again", tools).calls  # matching turns fire again


def test_audio_turn_takes_the_next_ordered_transcript_and_its_reply() -> None:
    p = Planner(Scenario.from_yaml(SCRIPT))
    assert p.transcript_for_audio("item_1", 900) == "I want pasta"
    # the transcript would match nothing; the reserved turn answers it
    assert p.for_user("item_1", "I want pasta", []) == Reply("Pasta it is.")


def test_commands_win_and_unknown_tools_get_an_error_reply() -> None:
    p = Planner(Scenario.from_yaml(SCRIPT))
    assert p.for_user("a", "/say Exactly this.", []) == Reply("Exactly this.")
    assert p.for_user("b", '/call start_timer {"seconds": 5}', ["start_timer"]).calls == (
        ToolCall("start_timer", '{"seconds":5}'),
    )
    refused = p.for_user("c", "/call launch_rocket", ["start_timer"])
    assert refused.calls == ()
    assert refused.say is not None and "launch_rocket" in refused.say and "start_timer" in refused.say
    assert p.for_user("d", "/call x {bad", []).say is not None
    disabled = p.for_user("e", "/call start_timer", ["start_timer"], tools_allowed=False)
    assert disabled.calls == () and disabled.say is not None
    # a scenario call to a missing tool is refused the same way
    assert p.for_user("f", "timer", []).calls == ()


def test_out_of_band_replies_are_matched_on_the_responses_metadata() -> None:
    scenario = Scenario.from_yaml(
        "out_of_band:\n"
        "  - metadata: {rolecall: analysis, role: cook}\n"
        "    json: {summary: Pasta., data: {servings: 2}}\n"
        "  - metadata: {rolecall: analysis}\n"
        "    say: not JSON at all\n"
    )
    planner = Planner(scenario)
    assert planner.out_of_band({"rolecall": "analysis", "role": "cook", "x": "y"}) == Reply(
        '{"summary":"Pasta.","data":{"servings":2}}'
    )
    assert planner.out_of_band({"rolecall": "analysis", "role": "other"}) == Reply("not JSON at all")
    assert planner.out_of_band(None) is None and Planner(None).out_of_band({"rolecall": "analysis"}) is None
    error = error_of("out_of_band:\n  - metadata: {a: b}\n    say: x\n    json: 1\n")
    assert "exactly one of `say` or `json`" in str(error) and error.line == 2
