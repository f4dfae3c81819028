"""`python -m worker eval` end to end: the shipped evals, bad expectations, and --live against a
simulator that misbehaves on purpose (wrong tool, wrong arguments, no handoff, forbidden words)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection

from tests.support.simulator_thread import SimulatorThread
from worker.simulator import Faults, Scenario, Simulator, SimulatorConfig

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def run_eval(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return subprocess.run(
        [sys.executable, "-m", "worker", "eval", *args],
        cwd=ROOT,
        env={**environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_shipped_evals_pass_offline(tmp_path: Path) -> None:
    proc = run_eval("--report", str(tmp_path / "evals"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for role in ("concierge", "cooking-guide", "sommelier"):
        assert f"== roles/evals/{role}.yaml (role {role}, offline, gpt-realtime): ok" in proc.stdout
    report = json.loads((tmp_path / "evals.json").read_text())
    assert report["ok"] is True and report["usage"]["audio_in"] > 0  # the spoken turn was heard
    assert (tmp_path / "evals.md").read_text().startswith("# Role evals")


BAD = """\
role: cooking-guide
conversations:
  - name: names things that do not exist
    turns:
      - user: show me carbonara
        expect:
          - tool: launch_rocket
          - handoff: pastry-chef
          - tool: show_recipe
            arguments: {recipe_id: carbonara}
      - user: set a timer
        expect:
          - tool: start_timer
            arguments: {label: pasta, seconds: "ten minutes"}
"""


def test_nonexistent_tool_and_role_fail_naming_what_exists(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    proc = run_eval(str(path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = " ".join(proc.stdout.split())
    assert "role cooking-guide has no tool 'launch_rocket'; its tools: find_recipes, show_recipe," in out
    assert "unknown role 'pastry-chef'" in out and "roles: concierge, cooking-guide, sommelier" in out
    assert "ok turn 1 tool show_recipe" in out  # the rest of the conversation still ran
    # the offline simulator sent the expected arguments; the worker's validator refused them
    assert "invalid arguments for start_timer: seconds: 'ten minutes' is not of type 'integer'" in out


def test_unknown_target_is_a_usage_error() -> None:
    proc = run_eval("pastry-chef")
    assert proc.returncode == 2
    assert "roles with evals: concierge, cooking-guide, sommelier" in proc.stderr


def test_live_needs_a_key_or_a_base_url() -> None:
    proc = run_eval("cooking-guide", "--live")
    assert proc.returncode == 2 and "OPENAI_API_KEY" in proc.stderr


# --- --live against a simulator that misbehaves on every other connection ------------------------

LIVE_EVAL = """\
role: cooking-guide
greet: false
conversations:
  - name: against a flaky model
    turns:
      - user: Show me the carbonara recipe.
        expect:
          - tool: show_recipe
            arguments: {recipe_id: spaghetti-carbonara}
      - user: Start a timer for ten minutes.
        expect:
          - tool: start_timer
            arguments: {seconds: 600}
      - user: Which wine goes with it?
        expect:
          - handoff: sommelier
      - user: Thanks!
        expect:
          - reply_excludes: [stupid]
"""

MISBEHAVING = {
    "turns": [
        {
            "match": "recipe",
            "say": "Step one.",
            "calls": [{"name": "highlight_step", "arguments": {"step": 1}}],
        },
        {
            "match": "timer",
            "calls": [{"name": "start_timer", "arguments": {"label": "pasta", "seconds": "ten minutes"}}],
        },
        {"match": "wine", "say": "A Frascati would be lovely."},
        {"match": "thanks", "say": "That was a stupid question."},
    ]
}
BEHAVING = {
    "turns": [
        {
            "match": "recipe",
            "calls": [{"name": "show_recipe", "arguments": {"recipe_id": "spaghetti-carbonara"}}],
            "then": [{"say": "Here it is."}],
        },
        {
            "match": "timer",
            "calls": [{"name": "start_timer", "arguments": {"label": "pasta", "seconds": 600}}],
        },
        {"match": "wine", "calls": [{"name": "ask_sommelier", "arguments": {"summary": "carbonara"}}]},
        {"match": "thanks", "say": "You're welcome."},
    ]
}


class Alternating(Simulator):
    """Odd connections get the misbehaving scenario, even ones the good one."""

    async def _handle(self, ws: ServerConnection) -> None:
        scenario = MISBEHAVING if self.connection_count % 2 == 0 else BEHAVING
        self.config.scenario = Scenario.model_validate(scenario)
        await super()._handle(ws)


@pytest.fixture
def flaky_model() -> Iterator[Simulator]:
    thread = SimulatorThread()
    thread.sim = Alternating(SimulatorConfig(port=0, faults=Faults(audio_pace=0.0, delta_interval=0.0)))
    thread.start()
    yield thread.sim
    thread.stop()
    assert thread.sim.violations == []


def test_live_mode_catches_misbehaviour_with_pass_rates(flaky_model: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "flaky.yaml"
    path.write_text(LIVE_EVAL)
    proc = run_eval(
        str(path),
        "--live",
        "--repeat",
        "2",
        "--report",
        str(tmp_path / "live"),
        env={"OPENAI_BASE_URL": flaky_model.base_url},
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert flaky_model.connection_count == 2
    report = json.loads((tmp_path / "live.json").read_text())
    rows = {row["expectation"]: row for row in report["files"][0]["expectations"]}
    assert {k: (r["passed"], r["runs"]) for k, r in rows.items()} == {
        'tool show_recipe (recipe_id="spaghetti-carbonara")': (1, 2),
        "tool start_timer (seconds=600)": (1, 2),
        "handoff sommelier": (1, 2),
        "reply excludes 'stupid'": (1, 2),
    }
    failures = {k: r["failures"][0] for k, r in rows.items()}
    assert failures['tool show_recipe (recipe_id="spaghetti-carbonara")'].startswith(
        'not called; calls: highlight_step {"step": 1} -> ok'
    )
    assert (
        "invalid arguments for start_timer: seconds: 'ten minutes' is not of type 'integer'"
        in (failures["tool start_timer (seconds=600)"])
    )
    assert failures["handoff sommelier"].startswith("no handoff; no tool was called")
    assert failures["reply excludes 'stupid'"].startswith("said 'stupid'")
    out = proc.stdout
    assert "FAIL turn 1  tool show_recipe" in out and "1/2 (50%)" in out
    assert out.count("-- transcript: against a flaky model (run 1) --") == 1
    assert "agent: That was a stupid question." in out
    assert "(role cooking-guide, live, gpt-realtime): FAILED" in out and "estimated cost: $" in out
