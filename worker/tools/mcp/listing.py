"""What an MCP server lists, read into tool parameters, and kept per worker process for a while.

Each listed tool's input schema goes through `worker.roles.schema_import`, as `roles check --online`
does: a schema OpenAI function calling would not take is noted with its problems and never offered.
A session lists each of its servers once, at its start, unless this process listed the same endpoint
less than `ROLECALL_MCP_LIST_TTL_S` ago; a failed listing is never kept.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from worker.roles.schema_import import imported
from worker.tools.mcp.connection import Connection

MAX_DESCRIPTION_CHARS = 1024
"""A server's description is cut to what a role's own `description` may hold."""


@dataclass(frozen=True)
class ListedTool:
    """One tool as the server lists it, its input schema read into tool parameters."""

    name: str
    description: str
    parameters: dict[str, Any]
    problems: tuple[str, ...] = ()
    """Why OpenAI function calling would not take its schema (empty: it would)."""


@dataclass(frozen=True)
class Listing:
    """A server's tools, by their names on the server, and when they were listed (monotonic clock)."""

    tools: Mapping[str, ListedTool]
    at: float


_LISTINGS: dict[str, Listing] = {}
"""This process's listings, by `Endpoint.key`."""


async def fetch(connection: Connection) -> Listing:
    """List the server now (McpToolError when it cannot be), and keep the listing for this process."""
    tools: dict[str, ListedTool] = {}
    for tool in await connection.list_tools():
        parameters, problems = imported(tool.input_schema)
        description = (tool.description or "").strip()[:MAX_DESCRIPTION_CHARS]
        tools[tool.name] = ListedTool(tool.name, description, parameters, tuple(problems))
    listing = Listing(tools, time.monotonic())
    _LISTINGS[connection.endpoint.key] = listing
    return listing


def cached(key: str, ttl_s: float) -> Listing | None:
    """This process's listing of endpoint `key`, if it is younger than `ttl_s` seconds."""
    listing = _LISTINGS.get(key)
    if listing is None or time.monotonic() - listing.at >= ttl_s:
        return None
    return listing
