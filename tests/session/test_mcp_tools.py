"""`mcp` tools through the whole worker: a real MCP server (the official SDK's, in a child process), the
worker, livekit-server, and the simulator's `/call` playing the model.

Allowlist and renames (what the model is offered), calls and their results as text, argument checks,
timeouts, a failing tool, the size cap, a server down when the session starts, a server restarted in
the middle of one (streamable HTTP and SSE), a tool that disappears.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.session.conftest import Stack, make_stack
from tests.support.livekit_server import LiveKitServer
from tests.support.mcp_server import McpServerProcess, Transport, free_port
from tests.support.ui_participant import UIParticipant

pytestmark = pytest.mark.integration

TOKEN = "mcp-test-token"
ROLE = """
name: {name}
title: MCP kitchen
description: Tools of an MCP server.
instructions: You help in the kitchen.
tools:
  - kind: mcp
    server: kitchen
    url: {url}
    transport: {transport}
    headers: {{Authorization: "Bearer ${{TOOL_MCP_TOKEN}}"}}
    timeout_s: 2
    max_result_chars: 1000
    error_message: Say the kitchen service did not answer.
    tools:
      - search_recipes
      - {{tool: get_recipe, name: recipe_details, description: "A recipe with its steps, by id."}}
      - slow
      - broken
      - huge
"""


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[Transport, McpServerProcess]]:
    logs = tmp_path_factory.mktemp("mcp")
    running: dict[Transport, McpServerProcess] = {}
    try:
        for transport in ("streamable-http", "sse"):
            running[transport] = McpServerProcess(free_port(), transport, logs / f"{transport}.log").start()
        yield running
    finally:
        for server in running.values():
            server.stop()


@pytest.fixture(scope="module")
def stack(livekit_server: LiveKitServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from make_stack(livekit_server, tmp_path_factory, TOOL_MCP_TOKEN=TOKEN, ROLECALL_MCP_LIST_TTL_S="0")


def role(stack: Stack, name: str, url: str, transport: Transport = "streamable-http") -> str:
    stack.write_role(name, ROLE.format(name=name, url=url, transport=transport))
    return name


def offered(stack: Stack) -> dict[str, Any]:
    """The tools this session's model was last offered (session.update), by name."""
    updates = [
        r.event["session"]["tools"]
        for r in stack.received()
        if r.type == "session.update" and r.event.get("session", {}).get("tools")
    ]
    return {t["name"]: t for t in updates[-1]} if updates else {}


async def started(stack: Stack, role_name: str) -> UIParticipant:
    ui = await stack.session(role_name)
    await ui.wait_for(lambda: ui.agent() is not None, what="agent")
    await ui.wait_for(lambda: "search_recipes" in offered(stack), what="the MCP tools to be offered")
    return ui


async def call(stack: Stack, ui: UIParticipant, tool: str, args: dict[str, Any]) -> str:
    """`/call` tool; what the worker handed the model back."""
    before = len(stack.tool_outputs(tool))
    await ui.say_text(f"/call {tool} {json.dumps(args)}")
    async with asyncio.timeout(20):
        while len(stack.tool_outputs(tool)) == before:
            await asyncio.sleep(0.05)
    return stack.tool_outputs(tool)[-1]


async def test_only_allowlisted_tools_are_offered_renamed_with_the_servers_schemas(
    stack: Stack, servers: dict[Transport, McpServerProcess]
) -> None:
    ui = await started(stack, role(stack, "mcp-offer", servers["streamable-http"].url))
    try:
        tools = offered(stack)
        assert {"search_recipes", "recipe_details", "slow", "broken", "huge"} <= set(tools)
        assert "delete_everything" not in tools and "get_recipe" not in tools
        assert tools["search_recipes"]["description"] == "Search the kitchen's recipes."
        assert tools["search_recipes"]["parameters"]["properties"]["max_results"] == {
            "type": "integer",
            "description": "How many recipes at most.",
            "minimum": 1,
            "maximum": 10,
            "default": 3,
        }
        assert tools["recipe_details"]["description"] == "A recipe with its steps, by id."
        assert tools["recipe_details"]["parameters"]["properties"]["recipe_id"]["enum"] == [
            "carbonara",
            "limone",
        ]

        await ui.say_text("/call delete_everything {}")  # the model names a tool it was not offered
        await ui.wait_for(lambda: "no such tool" in ui.agent_text(), what="the simulator's refusal")
        assert servers["streamable-http"].seen().calls("delete_everything") == []
    finally:
        await ui.leave()


async def test_calls_return_the_servers_results_as_text(
    stack: Stack, servers: dict[Transport, McpServerProcess]
) -> None:
    server = servers["streamable-http"]
    ui = await started(stack, role(stack, "mcp-calls", server.url))
    try:
        found = json.loads(await call(stack, ui, "search_recipes", {"query": "carbonara"}))
        assert found["id"] == "carbonara" and found["minutes"] == 25
        recipe = json.loads(await call(stack, ui, "recipe_details", {"recipe_id": "limone"}))
        assert recipe["steps"] == ["boil pasta", "add lemon and butter"]
        calls = server.seen().calls()
        assert [(c["tool"], c["arguments"]) for c in calls[-2:]] == [
            ("search_recipes", {"query": "carbonara"}),
            ("get_recipe", {"recipe_id": "limone"}),
        ]
        assert calls[-1]["headers"]["authorization"] == f"Bearer {TOKEN}"
        assert TOKEN not in stack.worker.log()  # the header's secret is never logged
    finally:
        await ui.leave()


async def test_invalid_arguments_never_reach_the_server(
    stack: Stack, servers: dict[Transport, McpServerProcess]
) -> None:
    server = servers["streamable-http"]
    ui = await started(stack, role(stack, "mcp-args", server.url))
    try:
        before = len(server.seen().calls())
        output = await call(stack, ui, "search_recipes", {"query": 7, "max_results": 50})
        assert output.startswith("invalid arguments for search_recipes: "), output
        assert "query: 7 is not of type 'string'" in output and "max_results: 50 is greater than" in output
        assert len(server.seen().calls()) == before
    finally:
        await ui.leave()


@pytest.mark.parametrize(
    ("tool", "args", "reason"),
    [
        ("slow", {"seconds": 10}, "the kitchen server did not answer within 2 s"),
        (
            "broken",
            {},
            "the kitchen server answered with an error: Error executing tool broken: the oven is on fire",
        ),
    ],
)
async def test_a_slow_or_failing_tool_fails_with_the_roles_error_message_and_the_session_goes_on(
    stack: Stack, servers: dict[Transport, McpServerProcess], tool: str, args: dict[str, Any], reason: str
) -> None:
    ui = await started(stack, role(stack, f"mcp-{tool}", servers["streamable-http"].url))
    try:
        output = await call(stack, ui, tool, args)
        assert output == f"{tool} failed: {reason}. Say the kitchen service did not answer.", output
        assert json.loads(await call(stack, ui, "search_recipes", {"query": "limone"}))["id"] == "limone"
    finally:
        await ui.leave()


async def test_a_huge_result_is_cut_to_the_roles_size(
    stack: Stack, servers: dict[Transport, McpServerProcess]
) -> None:
    ui = await started(stack, role(stack, "mcp-huge", servers["streamable-http"].url))
    try:
        output = await call(stack, ui, "huge", {"chars": 500_000})
        assert (
            output == "x" * 1000 + "\n[cut: the result has 500000 characters; only the first 1000 are shown]"
        )
    finally:
        await ui.leave()


async def test_a_server_down_at_the_start_does_not_fail_the_session_and_serves_once_it_is_up(
    stack: Stack, tmp_path: Path
) -> None:
    port = free_port()
    ui = await stack.session(role(stack, "mcp-down", f"http://127.0.0.1:{port}/mcp"))
    late = McpServerProcess(port, "streamable-http", tmp_path / "late.log")
    try:
        await ui.wait_for(lambda: ui.agent() is not None, what="agent")
        await ui.wait_for(lambda: "search_recipes" in offered(stack), what="the tools, as unavailable")
        assert offered(stack)["search_recipes"]["description"].startswith("Unavailable right now")
        output = await call(stack, ui, "search_recipes", {"query": "pasta"})
        assert output.startswith("search_recipes failed: the kitchen server could not be reached"), output
        assert "MCP server kitchen unavailable" in stack.worker.log()

        late.start()  # the server comes up: the same session's next call reaches it
        found = json.loads(await call(stack, ui, "search_recipes", {"query": "carbonara"}))
        assert found["id"] == "carbonara"
        assert [c["arguments"] for c in late.seen().calls("search_recipes")] == [{"query": "carbonara"}]
    finally:
        await ui.leave()
        late.stop()


@pytest.mark.parametrize(
    ("transport", "legacy"), [("streamable-http", False), ("streamable-http", True), ("sse", False)]
)
async def test_a_server_restarted_mid_session_serves_the_next_call(
    stack: Stack, tmp_path: Path, transport: Transport, legacy: bool
) -> None:
    """Modern streamable HTTP is stateless; a legacy one forgets the session id ("Session terminated":
    sent again); an SSE stream closes (connected again before the call)."""
    server = McpServerProcess(free_port(), transport, tmp_path / "server.log", legacy=legacy).start()
    try:
        name = f"mcp-restart-{transport}{'-legacy' if legacy else ''}"
        ui = await started(stack, role(stack, name, server.url, transport))
        try:
            assert json.loads(await call(stack, ui, "search_recipes", {"query": "limone"}))["id"] == "limone"
            server.stop()
            server.start()
            found = json.loads(await call(stack, ui, "search_recipes", {"query": "carbonara"}))
            assert found["id"] == "carbonara"
            assert [c["arguments"] for c in server.seen().calls("search_recipes")] == [{"query": "carbonara"}]
        finally:
            await ui.leave()
    finally:
        server.stop()


async def test_a_tool_that_disappeared_is_refused_with_a_clear_message(stack: Stack, tmp_path: Path) -> None:
    server = McpServerProcess(free_port(), "streamable-http", tmp_path / "server.log").start()
    try:
        ui = await started(stack, role(stack, "mcp-gone", server.url))
        try:
            server.remove("slow")
            output = await call(stack, ui, "slow", {"seconds": 0})
            assert (
                output
                == "slow failed: the kitchen server no longer offers slow. Say the kitchen service did not answer."
            )
            assert json.loads(await call(stack, ui, "search_recipes", {"query": "limone"}))["id"] == "limone"
        finally:
            await ui.leave()
    finally:
        server.stop()
