"""MCP tools against a real MCP server (the official SDK's, in this test's event loop): what a session
offers of it, the calls, the worker's cache of listings, and each way a call fails.

The worker-level tests (`tests/session/test_mcp_tools.py`) do the same through livekit-agents and the
simulator's `/call`; these run the same code on `fake_context`, fast.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_session import fake_context
from tests.support.mcp_server import Running, free_port, serving
from worker.roles import McpTool, Role, RoleRegistry
from worker.session.context import SessionContext
from worker.settings import Settings
from worker.tools import build_tools
from worker.tools.mcp import McpToolError, listing
from worker.tools.mcp.session import OPEN_PARAMETERS

pytestmark = pytest.mark.unit


def role_text(url: str, *, transport: str = "streamable-http", timeout: float = 2, extra: str = "") -> str:
    return f"""
name: kitchen
title: Kitchen
description: MCP tools.
instructions: Cook.
tools:
  - kind: mcp
    server: kitchen
    url: {url}
    transport: {transport}
    headers: {{Authorization: "Bearer ${{TOOL_MCP_TOKEN}}"}}
    timeout_s: {timeout}
    max_result_chars: 1000
    tools:
      - search_recipes
      - {{tool: get_recipe, name: recipe_details, description: The role's own words.}}
      - slow
      - broken
      - huge
{extra}"""


def load(folder: Path, text: str) -> tuple[Role, Settings]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kitchen.yaml").write_text(text)
    settings = Settings(roles_dir=folder, http_private_hosts="127.0.0.1", mcp_list_ttl_s=0)
    return RoleRegistry(folder, policy=settings.role_policy()).get("kitchen"), settings


@pytest.fixture
async def server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Running]:
    monkeypatch.setenv("TOOL_MCP_TOKEN", "s3cret")
    async with serving() as running:
        yield running


async def call(ctx: SessionContext, role: Role, name: str, args: dict[str, Any]) -> str:
    spec = role.tool(name)
    assert isinstance(spec, McpTool)
    return await ctx.tools.mcp.call(spec, args, ctx)


def offered(ctx: SessionContext, role: Role) -> dict[str, Any]:
    return {t.info.name: t.info.raw_schema for t in build_tools(role, ctx)}  # type: ignore[union-attr]


async def test_only_the_allowlisted_tools_are_offered_with_the_servers_schemas(
    server: Running, tmp_path: Path
) -> None:
    role, settings = load(tmp_path, role_text(server.url))
    async with fake_context(settings=settings) as ctx:
        assert offered(ctx, role) == {}  # not listed yet: nothing offered
        await ctx.tools.mcp.prepare(role, ctx)
        tools = offered(ctx, role)
    assert set(tools) == {"search_recipes", "recipe_details", "slow", "broken", "huge"}
    search = tools["search_recipes"]
    assert search["description"] == "Search the kitchen's recipes."
    assert search["parameters"] == {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "What the user wants to cook.", "maxLength": 200},
            "max_results": {
                "type": "integer",
                "description": "How many recipes at most.",
                "minimum": 1,
                "maximum": 10,
                "default": 3,
            },
        },
        "required": ["query"],
    }
    details = tools["recipe_details"]
    assert details["description"] == "The role's own words."
    assert details["parameters"]["properties"]["recipe_id"] == {
        "type": "string",
        "enum": ["carbonara", "limone"],
    }


async def test_a_tool_whose_schema_openai_would_not_take_is_not_offered(
    server: Running, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="rolecall.tools.mcp")
    extra = "      - positive\n      - not_on_the_server\n"
    role, settings = load(tmp_path, role_text(server.url) + extra)
    async with fake_context(settings=settings) as ctx:
        await ctx.tools.mcp.prepare(role, ctx)
        tools = offered(ctx, role)
        assert "positive" not in tools and "not_on_the_server" not in tools and "search_recipes" in tools
        with pytest.raises(McpToolError, match="in a way this worker cannot offer"):
            await call(ctx, role, "positive", {"n": 1})
    assert "the schema of positive is not offered (properties.n.exclusiveMinimum: keyword" in caplog.text
    assert "MCP server kitchen does not list not_on_the_server; it is not offered" in caplog.text


async def test_calls_reach_the_servers_tools_under_their_own_names(server: Running, tmp_path: Path) -> None:
    role, settings = load(tmp_path, role_text(server.url))
    async with fake_context(settings=settings) as ctx:
        await ctx.tools.mcp.prepare(role, ctx)
        found = json.loads(await call(ctx, role, "search_recipes", {"query": "carbonara"}))
        recipe = json.loads(await call(ctx, role, "recipe_details", {"recipe_id": "limone"}))
    assert found["name"] == "Spaghetti carbonara"  # one result: the SDK sends each list item as a text part
    assert recipe["name"] == "Pasta al limone"
    calls = server.seen.calls()
    assert [(c["tool"], c["arguments"]) for c in calls] == [
        ("search_recipes", {"query": "carbonara"}),
        ("get_recipe", {"recipe_id": "limone"}),
    ]
    assert all(c["headers"]["authorization"] == "Bearer s3cret" for c in calls)
    assert all(c["headers"]["user-agent"] == "RoleCall-worker" for c in calls)


async def test_a_huge_result_is_cut_and_the_model_is_told(server: Running, tmp_path: Path) -> None:
    role, settings = load(tmp_path, role_text(server.url))
    async with fake_context(settings=settings) as ctx:
        text = await call(ctx, role, "huge", {"chars": 50_000})
    assert text == "x" * 1000 + "\n[cut: the result has 50000 characters; only the first 1000 are shown]"


async def test_a_failing_tool_says_what_the_server_said(server: Running, tmp_path: Path) -> None:
    role, settings = load(tmp_path, role_text(server.url))
    async with fake_context(settings=settings) as ctx:
        with pytest.raises(McpToolError, match=r"^the kitchen server answered with an error: ") as info:
            await call(ctx, role, "broken", {})
    assert "the oven is on fire" in str(info.value)


async def test_a_slow_tool_times_out_and_the_connection_serves_the_next_call(
    server: Running, tmp_path: Path
) -> None:
    role, settings = load(tmp_path, role_text(server.url, timeout=0.5))
    async with fake_context(settings=settings) as ctx:
        with pytest.raises(McpToolError, match=r"^the kitchen server did not answer within 0.5 s$"):
            await call(ctx, role, "slow", {"seconds": 5})
        assert await call(ctx, role, "slow", {"seconds": 0}) == "done after 0.0 s"


async def test_a_tool_that_disappeared_is_refused_as_such(server: Running, tmp_path: Path) -> None:
    role, settings = load(tmp_path, role_text(server.url))
    async with fake_context(settings=settings) as ctx:
        await ctx.tools.mcp.prepare(role, ctx)
        server.server.remove_tool("slow")
        with pytest.raises(McpToolError, match=r"^the kitchen server no longer offers slow$"):
            await call(ctx, role, "slow", {"seconds": 0})
        assert "slow" not in offered(ctx, role)  # and it is no longer offered


async def test_a_server_down_at_the_start_is_offered_as_unavailable_and_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("TOOL_MCP_TOKEN", "s3cret")
    caplog.set_level("INFO", logger="rolecall.tools.mcp")
    port = free_port()
    role, settings = load(tmp_path, role_text(f"http://127.0.0.1:{port}/mcp"))
    async with fake_context(settings=settings) as ctx:
        await ctx.tools.mcp.prepare(role, ctx)  # does not raise: the session goes on
        tools = offered(ctx, role)
        assert set(tools) == {"search_recipes", "recipe_details", "slow", "broken", "huge"}
        assert tools["search_recipes"]["parameters"] == OPEN_PARAMETERS
        assert tools["search_recipes"]["description"].startswith(
            "Unavailable right now (the kitchen server could not be reached"
        )
        assert tools["recipe_details"]["description"].endswith("It is for: The role's own words.")
        with pytest.raises(McpToolError, match=r"^the kitchen server could not be reached"):
            await call(ctx, role, "search_recipes", {"query": "pasta"})
        assert "MCP server kitchen unavailable: the kitchen server could not be reached" in caplog.text
        async with serving(port=port) as server:  # the server comes up during the session
            with pytest.raises(McpToolError, match=r"^invalid arguments: query: 7 is not of type 'string'"):
                await call(ctx, role, "search_recipes", {"query": 7})  # now held to the server's schema
            assert json.loads(await call(ctx, role, "search_recipes", {"query": "limone"}))["id"] == "limone"
            assert "query" in offered(ctx, role)["search_recipes"]["parameters"]["properties"]
        assert [c["arguments"] for c in server.seen.calls()] == [{"query": "limone"}]
    assert "MCP server kitchen is available again" in caplog.text


async def test_a_listing_is_reused_by_the_next_session_of_this_process_within_the_ttl(
    server: Running, tmp_path: Path
) -> None:
    role, settings = load(tmp_path, role_text(server.url))
    cached = Settings(roles_dir=tmp_path, http_private_hosts="127.0.0.1", mcp_list_ttl_s=300)
    listings = lambda: len([r for r in server.seen.requests if r["rpc"] == "tools/list"])  # noqa: E731
    async with fake_context(settings=cached) as ctx:
        await ctx.tools.mcp.prepare(role, ctx)
    first = listings()
    async with fake_context(settings=cached) as ctx:
        await ctx.tools.mcp.prepare(role, ctx)
        assert "search_recipes" in offered(ctx, role)
    assert listings() == first  # the second session did not list again
    async with fake_context(settings=settings) as ctx:  # ROLECALL_MCP_LIST_TTL_S=0: every session lists
        await ctx.tools.mcp.prepare(role, ctx)
    assert listings() > first
    listing._LISTINGS.clear()
