"""The registry of tool kinds: each role tool's `kind` names the module that runs it.

This is the one extension point for a new kind (MCP servers, Python functions, ...): a module with a
`runner(spec, role, ctx) -> Runner` and its role model in `worker.roles`, registered here. Everything
else a tool has (validation, limits, timeout, report, error translation) comes from `worker.tools.guard`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from worker.roles import Role
from worker.tools import builtin, frontend, handoff, http, mcp, python
from worker.tools.guard import AnyTool, Runner

if TYPE_CHECKING:
    from worker.session.context import SessionContext

RunnerFactory = Callable[[Any, Role, "SessionContext"], Runner]

KINDS: dict[str, RunnerFactory] = {
    "frontend": frontend.runner,
    "http": http.runner,
    "handoff": handoff.runner,
    "builtin": builtin.runner,
    "python": python.runner,
    "mcp": mcp.runner,
}
"""Every tool kind a role may use, by its `kind:`."""


def runner_for(spec: AnyTool, role: Role, ctx: SessionContext) -> Runner:
    """The runner of `spec`, a tool of `role`, in this session."""
    return KINDS[spec.kind](spec, role, ctx)
