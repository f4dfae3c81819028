"""A role's tools as livekit-agents function tools: one module per kind, one guard for all.

guard.py     the wrapper every call goes through (limit, validation, timeout, report, errors, tool
             activity on the page, the duplicate policy)
background.py  tools that run beside the conversation (background mode, spoken progress)
progress.py  how a running tool reports progress
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
from typing import TYPE_CHECKING, Any

from livekit.agents.llm import Tool, Toolset

from worker.roles import FrontendTool, McpTool, Role
from worker.tools.background import BackgroundTools, RunningCalls, runs_beside
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
    running: RunningCalls = field(default_factory=RunningCalls)
    background: BackgroundTools = field(init=False)
    """The session's tools that run beside the conversation (given to the `AgentSession`)."""

    def __post_init__(self) -> None:
        self.background = BackgroundTools(self.running)


def build_tools(role: Role, ctx: SessionContext) -> list[Tool | Toolset]:
    """The function tools the model is offered for `role` in this session: all of the role's tools,
    but the frontend ones the page said it does not implement, and MCP tools as their servers list
    them (`worker.tools.mcp`: none before the listing, and not those a server lacks). Those that run
    beside the conversation go to the session's `background` toolset (so their answers outlive a
    handoff); the rest are returned, for the agent."""
    built: list[tuple[Any, Tool | Toolset]] = []
    for spec in role.tools:
        if isinstance(spec, FrontendTool) and not ctx.bridge.offers(spec):
            continue
        offered = ctx.tools.mcp.offered(spec) if isinstance(spec, McpTool) else spec
        if offered is not None:
            built.append((offered, guarded(offered, role, ctx, runner_for(offered, role, ctx))))
    ctx.tools.background.use([tool for spec, tool in built if runs_beside(spec)])
    return [tool for spec, tool in built if not runs_beside(spec)]
