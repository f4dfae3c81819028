"""The same eval files against the roles as written (Realtime) and their GPT-Live variant (`--api live`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.evals.test_cli import run_eval

pytestmark = pytest.mark.integration


def test_the_same_eval_files_pass_on_both_apis(tmp_path: Path) -> None:
    realtime = run_eval("concierge", "sommelier", "--report", str(tmp_path / "realtime"))
    live = run_eval("concierge", "sommelier", "--api", "live", "--report", str(tmp_path / "live"))
    assert realtime.returncode == 0, realtime.stdout + realtime.stderr
    assert live.returncode == 0, live.stdout + live.stderr
    for role in ("concierge", "sommelier"):
        assert f"== roles/evals/{role}.yaml (role {role}, offline, gpt-realtime): ok" in realtime.stdout
        assert f"== roles/evals/{role}.yaml (role {role}, offline, gpt-live-1): ok" in live.stdout
    report = json.loads((tmp_path / "live.json").read_text())
    assert report["ok"] is True
    assert report["usage"]["seconds"] > 0 and report["usage"]["audio_out"] == 0  # billed by duration
    assert "GPT-Live voice" in live.stdout
