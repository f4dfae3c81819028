"""The guard every tool call goes through: limit, validation, timeout, report, errors for the model."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from livekit.agents.llm import ToolError

from tests.support.fake_session import fake_context
from tests.tools.roles_for_tests import front, write_roles
from worker.tools.guard import Outcome, ToolFailure, guarded

pytestmark = pytest.mark.unit


async def call(tool: Any, arguments: Any) -> Any:
    return await tool(arguments, None)


async def test_arguments_that_break_the_schema_never_reach_the_runner(tmp_path: Path) -> None:
    role = front(write_roles(tmp_path))
    ran: list[Any] = []

    async def run(args: dict[str, Any], _: Any) -> str:
        ran.append(args)
        return "{}"

    async with fake_context() as ctx:
        tool = guarded(role.tool("show_card"), role, ctx, run)  # type: ignore[arg-type]
        with pytest.raises(ToolError, match=r"invalid arguments for show_card: title: .* is too long"):
            await call(tool, {"title": "x" * 21})
        with pytest.raises(ToolError, match="not JSON"):
            await call(tool, "{nope")
        ctx.tools.turns.reset()  # the role allows 2 calls a turn
        assert await call(tool, json.dumps({"title": "Soup"})) == "{}"
        assert ran == [{"title": "Soup"}]
        assert [c.outcome for c in ctx.record.tool_calls] == ["error", "error", "ok"]


async def test_the_per_turn_limit_refuses_runaway_calls_until_the_user_speaks(tmp_path: Path) -> None:
    role = front(write_roles(tmp_path))  # max_tool_calls_per_turn: 2

    async def run(args: dict[str, Any], _: Any) -> str:
        return "{}"

    async with fake_context() as ctx:
        tool = guarded(role.tool("other_card"), role, ctx, run)  # type: ignore[arg-type]
        await call(tool, {})
        await call(tool, {})
        with pytest.raises(ToolError, match=r"too many tool calls in one turn \(limit 2\)"):
            await call(tool, {})
        assert ctx.record.tool_calls[-1].outcome == "error"
        ctx.tools.turns.reset()  # the conversation does this when the user speaks
        assert await call(tool, {}) == "{}"


async def test_a_failure_becomes_a_sentence_for_the_model_and_a_record(tmp_path: Path) -> None:
    role = front(write_roles(tmp_path))

    async def run(args: dict[str, Any], _: Any) -> str:
        raise ToolFailure("the user's screen did not answer in time")

    async with fake_context() as ctx:
        tool = guarded(role.tool("show_card"), role, ctx, run)  # type: ignore[arg-type]
        with pytest.raises(ToolError) as excinfo:
            await call(tool, {"title": "Soup"})
        assert excinfo.value.message == (
            "show_card failed: the user's screen did not answer in time. "
            "Apologise that the screen could not show it."
        )
        record = ctx.record.tool_calls[-1]
        assert (record.outcome, record.detail, record.arguments) == (
            "error",
            "the user's screen did not answer in time",
            {"title": "Soup"},
        )


async def test_a_runner_that_hangs_is_cut_off(tmp_path: Path) -> None:
    role = front(write_roles(tmp_path))  # show_card: timeout_s 0.05

    async def run(args: dict[str, Any], _: Any) -> str:
        await asyncio.Event().wait()
        return "{}"

    async with fake_context() as ctx:
        tool = guarded(role.tool("show_card"), role, ctx, run)  # type: ignore[arg-type]
        with pytest.raises(ToolError, match=r"show_card failed: no answer within 0\.05 s"):
            await call(tool, {"title": "Soup"})


async def test_a_bug_in_a_runner_is_an_internal_error_not_the_end_of_the_session(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    role = front(write_roles(tmp_path))

    async def run(args: dict[str, Any], _: Any) -> str:
        raise KeyError("oops")

    async with fake_context() as ctx:
        tool = guarded(role.tool("other_card"), role, ctx, run)  # type: ignore[arg-type]
        with pytest.raises(ToolError, match=r"other_card failed: internal error \(KeyError\)"):
            await call(tool, {})
    assert "tool other_card crashed" in caplog.text


async def test_an_outcome_gives_the_model_one_thing_and_the_report_another(tmp_path: Path) -> None:
    role = front(write_roles(tmp_path))

    async def run(args: dict[str, Any], _: Any) -> Outcome:
        return Outcome(output=("an agent", "say hello"), detail="handoff to back")

    async with fake_context() as ctx:
        tool = guarded(role.tool("to_back"), role, ctx, run)  # type: ignore[arg-type]
        assert await call(tool, {"summary": "wants soup"}) == ("an agent", "say hello")
        assert ctx.record.tool_calls[-1].detail == "handoff to back"
