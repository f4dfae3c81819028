"""The model block's two APIs (`api: realtime | live`) and the Realtime settings that caught up: each
setting validated at its line, settings of the other API refused with a hint, handoffs between roles
checked against what a GPT-Live connection can change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.roles.conftest import MINIMAL, Check, Write
from worker.roles import InvalidRoleError, RoleRegistry
from worker.roles.loader import RoleLoader
from worker.roles.model_settings import (
    DEFAULT_LIVE_INSTRUCTIONS,
    FunctionChoice,
    ModelSettings,
    RetentionRatio,
)

pytestmark = pytest.mark.unit

BASE = MINIMAL.format(name="a")
LIVE = BASE + "model:\n  api: live\n"


def handoff(target: str, extra: str = "") -> str:
    return f"tools:\n  - {{name: go, kind: handoff, description: Go., target: {target}{extra}}}\n"


@pytest.mark.parametrize(
    "line, hint",
    [
        ("temperature: 0.8", "GPT-Live has no sampling temperature; remove it"),
        ("modalities: [audio]", "GPT-Live always speaks, with transcripts alongside; remove it"),
        ("turn_detection: {type: server_vad}", "GPT-Live is full duplex and decides itself when to speak"),
        ("input_transcription: null", "GPT-Live transcribes the user itself; remove it"),
        ("max_output_tokens: 100", "cap the backend instead: backend.max_output_tokens"),
        ("speed: 1.1", "GPT-Live has no speech speed setting; remove it"),
        ("reasoning_effort: low", "the backend reasons under api: live: backend.reasoning_effort"),
        ("noise_reduction: far_field", "GPT-Live has no input noise reduction setting; remove it"),
        ("truncation: disabled", "GPT-Live manages its context itself; remove it"),
    ],
)
def test_realtime_settings_are_refused_under_live_at_their_line(check: Check, line: str, hint: str) -> None:
    key = line.split(":")[0]
    (error,) = check(LIVE + f"  {line}\n")
    assert error.startswith(f"roles/a.yaml:7:{len(key) + 5}: model.{key}: {key} does not apply to api: live")
    assert hint in error


@pytest.mark.parametrize(
    "line", ["live_instructions: Speak softly.", "delegation: responses", "backend: {model: gpt-5.6-luna}"]
)
def test_live_settings_are_refused_under_realtime(check: Check, line: str) -> None:
    key = line.split(":")[0]
    assert check(BASE + f"model:\n  {line}\n") == [
        f"roles/a.yaml:6:{len(key) + 5}: model.{key}: {key} applies to api: live only "
        "(hint: set api: live to run the role on GPT-Live, or remove it)"
    ]


def test_voices_follow_the_api(check: Check) -> None:
    assert check(BASE + "model:\n  voice: vesper\n") == [
        "roles/a.yaml:6:10: model.voice: vesper is a GPT-Live voice (hint: set api: live, or pick a Realtime voice)"
    ]
    assert check(LIVE + "  voice: vesper\n") == []
    (error,) = check(LIVE + "  voice: nova\n")
    assert error.startswith("roles/a.yaml:7:10: model.voice: expected one of alloy, ash, ballad, beacon")


def test_client_delegation_is_refused_with_the_reason(check: Check) -> None:
    (error,) = check(LIVE + "  delegation: client\n")
    assert error.startswith("roles/a.yaml:7:15: model.delegation: delegation: client is not supported")
    assert "(hint: use delegation: responses (the default)" in error


def test_live_defaults_and_settings() -> None:
    live = ModelSettings.model_validate({"api": "live"})
    assert (live.name, live.voice, live.delegation) == ("gpt-live-1", "marin", "responses")
    assert live.voice_instructions == DEFAULT_LIVE_INSTRUCTIONS and live.backend.model == "gpt-5.6-luna"
    assert ModelSettings().name == "gpt-realtime" and not ModelSettings().live
    tuned = ModelSettings.model_validate(
        {
            "api": "live",
            "live_instructions": "Speak softly.",
            "backend": {"model": "m", "reasoning_effort": "low", "verbosity": "low", "max_output_tokens": 64},
            "tool_choice": {"function": "go"},
            "parallel_tool_calls": False,
        }
    )
    assert tuned.voice_instructions == "Speak softly."
    assert tuned.backend.reasoning_effort == "low" and tuned.tool_choice == FunctionChoice(function="go")


def test_realtime_settings_that_caught_up(check: Check) -> None:
    text = BASE + (
        "model:\n  reasoning_effort: low\n  noise_reduction: near_field\n  truncation: {retention_ratio: 0.8}\n"
        "  tool_choice: required\n  parallel_tool_calls: false\n  pre_connect_audio: true\n"
    )
    assert check(text + handoff("sommelier")) == []
    settings = ModelSettings.model_validate({"truncation": {"retention_ratio": 0.8}})
    assert settings.truncation == RetentionRatio(retention_ratio=0.8)
    assert check(BASE + "model:\n  truncation: {retention_ratio: 1.5}\n") == [
        "roles/a.yaml:6:33: model.truncation.retention_ratio: expected a number from 0.0 to 1.0, found 1.5"
    ]
    assert check(BASE + "model:\n  truncation: sometimes\n") == [
        "roles/a.yaml:6:15: model.truncation: expected one of auto, disabled, found 'sometimes'"
    ]
    assert check(BASE + "model:\n  tool_choice: required\n") == [
        "roles/a.yaml:6:16: model.tool_choice: tool_choice: required needs at least one tool"
    ]
    assert check(BASE + "model:\n  tool_choice: {function: og}\n" + handoff("sommelier")) == [
        "roles/a.yaml:6:27: model.tool_choice.function: no tool named 'og' (hint: tools: go)"
    ]


def test_handoffs_keep_the_api_and_on_live_the_voice_settings(check: Check, write: Write) -> None:
    write("live-b.yaml", MINIMAL.format(name="live-b") + "model:\n  api: live\n  voice: cedar\n")
    write("live-c.yaml", MINIMAL.format(name="live-c") + "model:\n  api: live\n")
    assert check(LIVE + handoff("live-c")) == []
    (error,) = check(LIVE + handoff("live-b"))
    assert error.startswith(
        "roles/a.yaml:8:57: tools[0].target: role 'live-b' has another model.voice ('marin' here, 'cedar' "
        "there): GPT-Live fixes them when the session starts"
    )
    (error,) = check(LIVE + handoff("sommelier"))
    assert "role 'sommelier' runs on api: realtime, this one on api: live" in error
    (error,) = check(LIVE + handoff("live-c", ", history: none"))
    assert error.startswith(
        "roles/a.yaml:8:74: tools[0].history: history: none is not supported under api: live"
    )


def test_a_target_edited_later_invalidates_the_role_that_hands_off(write: Write, roles_dir: Path) -> None:
    write("a.yaml", LIVE + handoff("b"))
    target = write("b.yaml", MINIMAL.format(name="b") + "model:\n  api: live\n")
    registry = RoleRegistry(roles_dir)
    assert registry.get("a").model.live
    target.write_text(MINIMAL.format(name="b") + "model:\n  api: live\n  voice: cedar\n")
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    with pytest.raises(InvalidRoleError):
        RoleRegistry(roles_dir).get("a")
    result = RoleLoader(roles_dir).load(os.fspath(roles_dir / "a.yaml"))
    assert str(roles_dir / "b.yaml") in result.dependencies
