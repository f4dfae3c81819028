"""`roles check --online`: connect to each MCP server the roles name, and check what they offer.

For every allowlisted tool: the server lists it, and its input schema is one OpenAI function calling
takes (as the worker reads it: `worker.tools.mcp.listing`). Each problem is located at the tool's
allowlist entry; a server that cannot be reached is reported once, at its first entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from worker.roles import McpServer, McpTool, Role, RoleValidationError
from worker.settings import Settings
from worker.tools.guard import ToolFailure
from worker.tools.mcp import listing
from worker.tools.mcp.connection import Connection
from worker.tools.mcp.session import endpoint_for


@dataclass(frozen=True)
class ServerCheck:
    """One server as `roles check --online` found it."""

    server: str
    url: str
    listed: int | None
    """How many tools it lists (None: it could not be listed)."""


async def check_online(
    roles: list[Role], settings: Settings
) -> tuple[list[ServerCheck], list[RoleValidationError]]:
    """List every MCP server of `roles` once; what each offers, and every problem found."""
    by_server: dict[str, tuple[McpServer, list[McpTool]]] = {}
    for role in roles:
        for tool in role.tools:
            if isinstance(tool, McpTool):
                entry = by_server.setdefault(tool.server.model_dump_json(), (tool.server, []))
                if tool not in entry[1]:
                    entry[1].append(tool)
    checks: list[ServerCheck] = []
    errors: list[RoleValidationError] = []
    for server, tools in by_server.values():
        try:
            connection = Connection(endpoint_for(server, settings))
        except ToolFailure as exc:
            checks.append(ServerCheck(server.server, server.url, None))
            errors.append(_at(tools[0], f"the {server.server} server cannot be used here: {exc}"))
            continue
        try:
            found = await listing.fetch(connection)
        except ToolFailure as exc:
            checks.append(ServerCheck(server.server, connection.endpoint.url, None))
            errors.append(_at(tools[0], f"not checked: {exc}"))
            continue
        finally:
            await connection.aclose()
        checks.append(ServerCheck(server.server, connection.endpoint.url, len(found.tools)))
        for tool in tools:
            listed = found.tools.get(tool.tool)
            if listed is None:
                names = ", ".join(sorted(found.tools)) or "(none)"
                errors.append(
                    _at(tool, f"the {server.server} server does not list {tool.tool!r}", f"it lists: {names}")
                )
            elif listed.problems:
                errors.append(
                    _at(
                        tool,
                        f"the {server.server} server's input schema of {tool.tool!r} is not one OpenAI "
                        f"function calling takes: {'; '.join(listed.problems[:3])}",
                        "change the tool on the server, or leave it out of the allowlist",
                    )
                )
    return checks, list(dict.fromkeys(errors))


def _at(tool: McpTool, message: str, hint: str = "") -> RoleValidationError:
    origin = tool.origin
    if origin is None:
        return RoleValidationError(message, hint=hint)
    return RoleValidationError(
        message, file=origin.file, line=origin.line, column=origin.column, field=origin.field, hint=hint
    )
