"""The model a role runs on: GPTLiveModel for `api: live` (voice settings, backend options, the voice
prompt on the agent and the role's prompt on the backend), and the Realtime settings that caught up."""

from __future__ import annotations

from pathlib import Path

import pytest
from livekit.agents.llm._realtime.gpt_live import GPTLiveModel

from tests.support.fake_session import fake_context
from worker.live import RoleCallLiveModel, backend_options
from worker.realtime import RoleCallRealtimeModel, build_model
from worker.roles import Role, RoleRegistry
from worker.roles.model_settings import DEFAULT_LIVE_INSTRUCTIONS, ModelSettings
from worker.session.agent import RoleAgent, fixed_changes
from worker.settings import Settings

pytestmark = pytest.mark.unit

SIM = Settings(openai_base_url="http://127.0.0.1:9/v1")

LIVE = """name: {name}
title: Live
description: D.
instructions: Help {{{{ user_name }}}}.
variables: {{user_name: {{default: Ana}}}}
model:
  api: live
  voice: vesper
  live_instructions: Speak softly.
  tool_choice: {{function: go}}
  parallel_tool_calls: false
  backend: {{model: gpt-5.6-luna, reasoning_effort: high, verbosity: low, max_output_tokens: 300}}
tools:
  - {{name: go, kind: handoff, description: Go., target: {other}}}
"""


def live_roles(tmp_path: Path) -> RoleRegistry:
    (tmp_path / "one.yaml").write_text(LIVE.format(name="one", other="two"))
    (tmp_path / "two.yaml").write_text(LIVE.format(name="two", other="one"))
    return RoleRegistry(tmp_path)


def role_with(model: dict[str, object]) -> Role:
    return Role(
        name="r",
        title="T",
        description="D",
        model=ModelSettings.model_validate(model),
        limits=Role.model_fields["limits"].annotation(),  # type: ignore[misc]
        variables={},
        instructions="x",
        greeting=None,
        tools=(),
        source="r.yaml",
        files=(),
    )


async def test_a_live_role_gets_a_gpt_live_model_with_its_voice_and_backend(tmp_path: Path) -> None:
    role = live_roles(tmp_path).get("one")
    model = build_model(role, SIM)
    try:
        assert isinstance(model, RoleCallLiveModel) and isinstance(model, GPTLiveModel)
        assert (model.model, model._opts.voice, model._opts.delegation) == (
            "gpt-live-1",
            "vesper",
            "responses",
        )
        assert model._opts.base_url == "http://127.0.0.1:9/v1"
        assert model._opts.responses == {
            "model": "gpt-5.6-luna",
            "tool_choice": {"type": "function", "function": {"name": "go"}},
            "reasoning": {"effort": "high"},
            "text": {"verbosity": "low"},
            "max_output_tokens": 300,
            "parallel_tool_calls": False,
        }
    finally:
        await model.aclose()


async def test_the_agent_speaks_the_voice_prompt_and_the_backend_runs_the_role(tmp_path: Path) -> None:
    registry = live_roles(tmp_path)
    role = registry.get("one")
    async with fake_context(registry=registry) as ctx:
        agent = RoleAgent(role, role.render({}), ctx, arrival_note="You resume a call about soup.")
        assert agent.instructions == "Speak softly."
        assert agent.backend_instructions is not None
        assert agent.backend_instructions.startswith("Help Ana.")
        assert "You resume a call about soup." in agent.backend_instructions  # continuity after a crash
        plain = RoleAgent(
            Role.model_validate(role.model_dump() | {"model": ModelSettings()}), role.render({}), ctx
        )
        assert plain.instructions == "Help Ana." and plain.backend_instructions is None
    assert ModelSettings(api="live").voice_instructions == DEFAULT_LIVE_INSTRUCTIONS


async def test_set_backend_retunes_the_model_and_its_sessions(tmp_path: Path) -> None:
    role = live_roles(tmp_path).get("one")
    model = build_model(role, SIM)
    assert isinstance(model, RoleCallLiveModel)
    model.open_early()
    try:
        model.set_backend(backend_options(role.model, "New prompt."))
        session = model.session()  # the early one
        assert session._opts.responses["instructions"] == "New prompt."
        assert model._opts.responses["instructions"] == "New prompt."
    finally:
        await session.aclose()
        await model.aclose()


def test_what_a_running_live_session_cannot_take() -> None:
    live = role_with({"api": "live", "voice": "cedar"})
    assert fixed_changes(live, role_with({"api": "live", "voice": "cedar", "backend": {"model": "x"}})) == []
    assert fixed_changes(live, role_with({"api": "live", "voice": "marin", "live_instructions": "Hi."})) == [
        "model.voice",
        "model.live_instructions",
    ]
    assert fixed_changes(role_with({}), role_with({"voice": "cedar"})) == []  # Realtime: as before
    assert fixed_changes(role_with({}), role_with({"api": "live"})) == ["model.api"]


async def test_the_realtime_settings_that_caught_up_reach_the_model() -> None:
    role = role_with(
        {
            "reasoning_effort": "low",
            "noise_reduction": "far_field",
            "truncation": {"retention_ratio": 0.7},
            "tool_choice": "required",
            "parallel_tool_calls": False,
        }
    )
    model = build_model(role, SIM)
    assert isinstance(model, RoleCallRealtimeModel)
    opts = model._opts
    assert opts.reasoning is not None and opts.reasoning.effort == "low"
    assert (
        opts.input_audio_noise_reduction is not None and opts.input_audio_noise_reduction.type == "far_field"
    )
    assert opts.truncation is not None and opts.truncation.retention_ratio == 0.7  # type: ignore[union-attr]
    assert opts.tool_choice == "required"
    session = model.session()
    try:
        queued = list(session._msg_ch._queue)  # what goes out first on the connection
        assert {
            "type": "session.update",
            "session": {"type": "realtime", "parallel_tool_calls": False},
        } in queued
    finally:
        await session.aclose()
        await model.aclose()
