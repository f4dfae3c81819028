"""Pass rates, the text table, and the JSON and Markdown reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from worker.evals import EvalResult, ExpectationResult, Verdict
from worker.evals.report import pass_rate, rate_text, render_text, report_paths, to_json, write_reports
from worker.evals.runner import ConversationRun
from worker.pricing import Usage

pytestmark = pytest.mark.unit


def result() -> EvalResult:
    good = ExpectationResult("shows a recipe", 1, "tool show_recipe", "e.yaml:8", [Verdict(True)] * 3)
    flaky = ExpectationResult(
        "shows a recipe",
        2,
        "reply excludes 'stupid'",
        "e.yaml:12",
        [Verdict(True), Verdict(False, "said 'stupid'"), Verdict(False, "said 'stupid'")],
    )
    runs = [
        ConversationRun(
            "shows a recipe", i, [], ["user: hi", "agent: stupid"], Usage(text_in=100, text_out=10), 0.01
        )
        for i in range(3)
    ]
    runs[1].failed = runs[2].failed = True
    return EvalResult("e.yaml", "cooking-guide", "live", "gpt-realtime", [good, flaky], runs)


def test_pass_rate_math() -> None:
    assert pass_rate(0, 0) == 0.0
    assert pass_rate(1, 3) == pytest.approx(1 / 3)
    r = result()
    assert [(row.passed, row.runs, row.ok) for row in r.expectations] == [(3, 3, True), (1, 3, False)]
    assert rate_text(r.expectations[1]) == "1/3 (33%)"
    assert not r.ok


def test_text_table_shows_failures_transcripts_and_cost() -> None:
    text = render_text([result()])
    assert "== e.yaml (role cooking-guide, live, gpt-realtime): FAILED" in text
    assert "ok   turn 1  tool show_recipe" in text
    assert "FAIL turn 2  reply excludes 'stupid'  1/3 (33%)" in text
    assert "instead: said 'stupid' (2 of 2 failures)" in text
    assert text.count("-- transcript: shows a recipe") == 2
    assert "1/2 expectations passed in every run" in text
    assert "tokens: 330" in text and "$0.0300" in text


def test_json_and_markdown(tmp_path: Path) -> None:
    data = to_json([result()])
    assert data["ok"] is False and data["cost_usd"] == pytest.approx(0.03)
    row = data["files"][0]["expectations"][1]
    assert row["pass_rate"] == pytest.approx(1 / 3) and row["failures"] == ["said 'stupid'"] * 2
    json_path, md_path = write_reports([result()], str(tmp_path / "out" / "evals.md"))
    assert (json_path.name, md_path.name) == ("evals.json", "evals.md")
    assert json.loads(json_path.read_text())["files"][0]["role"] == "cooking-guide"
    md = md_path.read_text()
    assert "| ❌ | 2 | shows a recipe › reply excludes 'stupid' | 1/3 (33%) |" in md
    assert "<details>" in md


def test_report_paths() -> None:
    assert report_paths("out/evals") == (Path("out/evals.json"), Path("out/evals.md"))
    assert report_paths("out/evals.json") == (Path("out/evals.json"), Path("out/evals.md"))
    assert report_paths("out/e.v1") == (Path("out/e.v1.json"), Path("out/e.v1.md"))


def test_a_run_with_a_problem_fails_the_eval_even_with_no_expectation_failing(tmp_path: Path) -> None:
    """A turn that timed out (or an invalid simulator event) with `expect: []` must not exit 0."""
    good = ExpectationResult("greets", 1, "reply contains 'hello'", "e.yaml:5", [Verdict(True)])
    run = ConversationRun("greets", 0, [], ["user: hi"], Usage(), None)
    result = EvalResult("e.yaml", "concierge", "offline", "gpt-realtime", [good], [run])
    assert result.ok
    run.problems.append("turn 2: no complete answer within 30 s")
    run.failed = True
    assert not result.ok
    text = render_text([result])
    assert "== e.yaml (role concierge, offline, gpt-realtime): FAILED" in text
    assert "problem in greets (run 1): turn 2: no complete answer within 30 s" in text
    assert "1/1 expectations passed in every run; 1 run(s) had problems" in text
    data = to_json([result])
    assert data["ok"] is False
    assert data["files"][0]["runs"][0]["problems"] == ["turn 2: no complete answer within 30 s"]
    _, md_path = write_reports([result], str(tmp_path / "r"))
    assert "problem in greets: turn 2: no complete answer within 30 s" in md_path.read_text()
