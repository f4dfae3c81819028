"""What the guard tells the page about each call (tool activity), the duplicate policy, the updates a
tool sends, and which tools run beside the conversation (unit: no session, the page's events captured)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from livekit.agents.llm import ToolError

from tests.support.fake_session import fake_context
from worker.protocol import PAGE_EVENT
from worker.roles import RoleRegistry
from worker.session.context import SessionContext
from worker.tools import build_tools, progress
from worker.tools.guard import ToolFailure, guarded

pytestmark = pytest.mark.unit

ROLE = """
name: busy
title: Busy
description: Tools that take their time.
instructions: Help.
tools:
  - name: search
    kind: http
    description: Search.
    url: https://api.example.com/search
    parameters: {type: object, properties: {query: {type: string}}, required: [query]}
    show_arguments: true
    duplicate: reject
  - name: latest
    kind: http
    description: Only the newest call counts.
    url: https://api.example.com/latest
    mode: background
    duplicate: replace
  - name: quiet
    kind: frontend
    description: Shows nothing of its arguments.
    parameters: {type: object, properties: {secret: {type: string}}}
  - name: chatty
    kind: http
    description: Reports progress.
    url: https://api.example.com/chatty
    progress: {after_ms: 60000, say: Never said here., updates: true}
"""


class Sent:
    """The agent participant's side of the page: what `send_text` was given."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def send_text(self, text: str, **_: Any) -> None:
        self.texts.append(text)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(t) for t in self.texts]


def busy(tmp_path: Path) -> Any:
    (tmp_path / "busy.yaml").write_text(ROLE)
    return RoleRegistry(tmp_path).get("busy")


def watch(ctx: SessionContext) -> Sent:
    sent = Sent()
    ctx.page.local = sent  # type: ignore[assignment]
    return sent


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_the_page_sees_each_call_start_and_answer_with_arguments_only_where_allowed(
    tmp_path: Path,
) -> None:
    role = busy(tmp_path)

    async def run(args: dict[str, Any], _: Any) -> str:
        return '{"ok":true}'

    async with fake_context() as ctx:
        sent = watch(ctx)
        await guarded(role.tool("search"), role, ctx, run)({"query": "pasta"}, None)
        await guarded(role.tool("quiet"), role, ctx, run)({"secret": "my address"}, None)
        await settle()
    events = sent.events()
    assert all(PAGE_EVENT.validate_python(e).type == "tool" for e in events)
    assert [(e["name"], e["status"]) for e in events] == [
        ("search", "started"),
        ("search", "done"),
        ("quiet", "started"),
        ("quiet", "done"),
    ]
    assert events[0]["arguments"] == {"query": "pasta"} and events[0]["kind"] == "http"
    assert events[0]["duration_ms"] is None and events[1]["duration_ms"] >= 0
    assert events[0]["call_id"] == events[1]["call_id"] != events[2]["call_id"]
    assert events[2]["arguments"] is None  # show_arguments is off: the page never sees them
    assert "my address" not in "".join(sent.texts)


async def test_a_failed_or_refused_call_ends_as_failed_for_the_page(tmp_path: Path) -> None:
    role = busy(tmp_path)

    async def broken(args: dict[str, Any], _: Any) -> str:
        raise ToolFailure("the service answered HTTP 500")

    async with fake_context() as ctx:
        sent = watch(ctx)
        tool = guarded(role.tool("search"), role, ctx, broken)
        with pytest.raises(ToolError):
            await tool({"query": "pasta"}, None)
        with pytest.raises(ToolError):
            await tool({"query": 7}, None)  # refused before it runs: no `started`
        await settle()
    assert [e["status"] for e in sent.events()] == ["started", "failed", "failed"]


async def test_reject_refuses_a_second_call_while_one_runs(tmp_path: Path) -> None:
    role = busy(tmp_path)
    gate = asyncio.Event()

    async def run(args: dict[str, Any], _: Any) -> str:
        await gate.wait()
        return json.dumps(args)

    async with fake_context() as ctx:
        tool = guarded(role.tool("search"), role, ctx, run)
        first = asyncio.create_task(tool({"query": "soup"}, None))
        await settle()
        with pytest.raises(
            ToolError, match=r"^search is already running \(for 0 s\) and its answer will follow"
        ):
            await tool({"query": "stew"}, None)
        gate.set()
        assert await first == '{"query": "soup"}'
        assert await tool({"query": "stew"}, None) == '{"query": "stew"}'  # once it is done, calls run again
    assert [(c.outcome, c.arguments["query"]) for c in ctx.record.tool_calls] == [
        ("error", "stew"),
        ("ok", "soup"),
        ("ok", "stew"),
    ]


async def test_replace_cancels_the_running_call_and_records_why(tmp_path: Path) -> None:
    role = busy(tmp_path)
    gate = asyncio.Event()

    async def run(args: dict[str, Any], _: Any) -> str:
        await gate.wait()
        return "{}"

    async with fake_context() as ctx:
        sent = watch(ctx)
        tool = guarded(role.tool("latest"), role, ctx, run)
        first = asyncio.create_task(tool({}, None))
        await settle()
        second = asyncio.create_task(tool({}, None))
        await settle()
        assert first.cancelled() or first.done()
        with pytest.raises(asyncio.CancelledError):
            await first
        gate.set()
        assert await second == "{}"
        await settle()
        assert not ctx.tools.running.calls
    assert [(c.outcome, c.detail) for c in ctx.record.tool_calls] == [
        ("error", "replaced by a newer call"),
        ("ok", "{}"),
    ]
    assert [e["status"] for e in sent.events()] == ["started", "started", "failed", "done"]


async def test_updates_a_tool_sends_reach_the_page_only_when_its_role_takes_them(tmp_path: Path) -> None:
    role = busy(tmp_path)

    async def run(args: dict[str, Any], _: Any) -> str:
        await progress.report("Found   twelve\nrecipes.")
        return "{}"

    async with fake_context() as ctx:
        sent = watch(ctx)
        await guarded(role.tool("chatty"), role, ctx, run)({}, None)
        await guarded(role.tool("quiet"), role, ctx, run)({}, None)  # no progress.updates: dropped
        await settle()
    progress_events = [e for e in sent.events() if e["status"] == "progress"]
    assert [(e["name"], e["message"]) for e in progress_events] == [("chatty", "Found twelve recipes.")]


async def test_tools_that_run_beside_the_conversation_go_to_the_sessions_background_toolset(
    tmp_path: Path,
) -> None:
    role = busy(tmp_path)
    async with fake_context() as ctx:
        offered = build_tools(role, ctx)
        names = lambda tools: sorted(t.info.name for t in tools)  # noqa: E731
        assert names(offered) == ["quiet", "search"]
        assert names(ctx.tools.background.tools) == ["chatty", "latest"]
