"""`mcp` tools: the tools of an MCP server, as a role's allowlist offers them.

The role names a server (streamable HTTP or SSE) and the tools to offer, optionally renamed and
re-described; the loader made one `McpTool` of each. Everything else a tool has (argument checks,
limits, timeout, report, error message) is the guard's, as for every kind.

session.py     McpState: one session's servers, listed at its start; the calls
connection.py  one connection to one server over the official SDK (`mcp.Client`), reopened when it dies
listing.py     a server's tools read into tool parameters; the worker's cache of listings
results.py     a call's result as text for the model, cut to the role's size
transport.py   the HTTP client under it: http tools' address checks, answers capped
online.py      `roles check --online`: connect, and check the allowlisted tools exist and fit
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from worker.roles import McpTool, Role
from worker.tools.guard import Runner
from worker.tools.mcp.connection import McpToolError
from worker.tools.mcp.session import McpState

if TYPE_CHECKING:
    from livekit.agents import RunContext

    from worker.session.context import SessionContext

__all__ = ["McpState", "McpToolError", "runner"]


def runner(spec: McpTool, role: Role, ctx: SessionContext) -> Runner:
    """The runner of one allowlisted tool of an MCP server."""

    async def run(args: dict[str, Any], _: RunContext[Any]) -> str:
        return await ctx.tools.mcp.call(spec, args, ctx)

    return run
