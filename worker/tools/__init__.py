"""A role's tools as livekit-agents function tools: one module per kind, one guard for all.

guard.py     the wrapper every call goes through (limit, validation, timeout, report, errors)
kinds.py     kind -> runner: the one place a new kind is registered
frontend.py  RPC to the user's page (and which frontend tools the page implements)
http.py      POST to the app backend
handoff.py   the session becomes another role
builtin.py   end_session
python.py    an async def of the worker's environment (`ToolContext`, `ToolFailure` for its authors)
mcp/         the allowlisted tools of an MCP server
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from livekit.agents.llm import Tool, Toolset

from worker.roles import FrontendTool, McpTool, Role
from worker.tools.guard import Outcome, ToolFailure, TurnCounter, guarded
from worker.tools.handoff import HandoffCount
from worker.tools.kinds import KINDS, runner_for
from worker.tools.mcp import McpState

if TYPE_CHECKING:
    from worker.session.context import SessionContext

__all__ = ["KINDS", "Outcome", "SessionTools", "ToolFailure", "build_tools"]


@dataclass
class SessionTools:
    """What the tools of one session keep between calls (each counter owned by its kind's module)."""

    turns: TurnCounter = field(default_factory=TurnCounter)
    handoffs: HandoffCount = field(default_factory=HandoffCount)
    mcp: McpState = field(default_factory=McpState)


def build_tools(role: Role, ctx: SessionContext) -> list[Tool | Toolset]:
    """The function tools the model is offered for `role` in this session: all of the role's tools,
    but the frontend ones the page said it does not implement, and MCP tools as their servers list
    them (`worker.tools.mcp`: none before the listing, and not those a server lacks)."""
    tools: list[Tool | Toolset] = []
    for spec in role.tools:
        if isinstance(spec, FrontendTool) and not ctx.bridge.offers(spec):
            continue
        offered = ctx.tools.mcp.offered(spec) if isinstance(spec, McpTool) else spec
        if offered is not None:
            tools.append(guarded(offered, role, ctx, runner_for(offered, role, ctx)))
    return tools
