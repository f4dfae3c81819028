"""The MCP servers of one session: listed at its start, one connection each, and the calls.

- `begin` starts listing a role's servers as the session is built; `prepare` waits for them (the
  agent does, before it offers the role's tools). A server that cannot be listed is logged, and its
  tools are offered as unavailable: calling one tries the server again, so a server that comes back
  serves the rest of the session.
- `offered` is what the model sees of an allowlisted tool: the server's description (unless the role
  gives one) and its input schema. A tool the server does not list is not offered.
- `call` runs one call. Arguments were checked against the schema the model was offered; if that
  was an unavailable tool's open schema, they are checked against the server's now. When the server
  answers a call with an error, it is listed again: a tool that has disappeared is refused as such.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from worker.roles import McpServer, McpTool, Role
from worker.tools.arguments import ArgumentValidator
from worker.tools.egress import EgressPolicy
from worker.tools.guard import ToolFailure
from worker.tools.http import _expand_env as expand_headers
from worker.tools.mcp import listing
from worker.tools.mcp.connection import Connection, Endpoint, McpToolError
from worker.tools.mcp.listing import Listing
from worker.tools.mcp.results import result_text

if TYPE_CHECKING:
    from worker.session.context import SessionContext
    from worker.settings import Settings

logger = logging.getLogger("rolecall.tools.mcp")

OPEN_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}}
"""What an unavailable tool is offered with: its real schema is unknown until the server answers."""
ERROR_CHARS = 300
"""How much of a server's error text the model is told."""


@dataclass
class _Server:
    spec: McpServer
    connection: Connection | None = None
    listing: Listing | None = None
    problem: str | None = None
    """Why the server is unavailable (None: listed, or not tried yet)."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    task: asyncio.Task[None] | None = None


class McpState:
    """What one session knows of its MCP servers (one per distinct `kind: mcp` block).

    `stand_in`: evals' stand-in server (`worker.evals.standins.McpStandIn`): every server of the session
    is reached there instead.
    """

    def __init__(self, stand_in: str | None = None) -> None:
        self._servers: dict[str, _Server] = {}
        self.stand_in = stand_in

    def begin(self, role: Role, ctx: SessionContext) -> None:
        """Start listing the servers of `role` that this session has not tried yet (a server that was
        down is tried again by a call of one of its tools, not by every change of tools)."""
        for server in self._of(role):
            if server.task is None:
                server.task = ctx.lifecycle.spawn(self._list(server, ctx), name="rolecall.mcp_listing")

    async def prepare(self, role: Role, ctx: SessionContext) -> None:
        """List the servers of `role` (each within its timeout); a server that is down is only logged."""
        self.begin(role, ctx)
        tasks = [s.task for s in self._of(role) if s.task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def pending(self, role: Role) -> bool:
        """Whether a server of `role` has not been tried yet (its tools are not offered meanwhile)."""
        return any(s.listing is None and s.problem is None for s in self._of(role))

    def offered(self, spec: McpTool) -> McpTool | None:
        """`spec` as the model is offered it now, or None (not listed yet, or the server lacks it)."""
        server = self._servers.get(_key(spec.server))
        if server is None or (server.listing is None and server.problem is None):
            return None
        if server.listing is None:
            what = f" It is for: {spec.description}" if spec.described else ""
            description = (
                f"Unavailable right now ({server.problem}); calling it tries the server again.{what}"
            )
            return spec.model_copy(update={"description": description, "parameters": OPEN_PARAMETERS})
        listed = server.listing.tools.get(spec.tool)
        if listed is None or listed.problems:
            return None
        description = spec.description if spec.described else listed.description or spec.description
        return spec.model_copy(update={"description": description, "parameters": listed.parameters})

    async def call(self, spec: McpTool, args: dict[str, Any], ctx: SessionContext) -> str:
        """Call `spec` with `args` (checked against what the model was offered); the result as text."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + spec.timeout_s
        server = self._server(spec.server)
        name = spec.server.server
        if server.listing is None:  # unavailable (or not listed yet): try the server again now
            await self._list(server, ctx)
        if server.listing is None or server.connection is None:
            raise McpToolError(server.problem or f"the {name} server is unavailable")
        listed = server.listing.tools.get(spec.tool)
        if listed is None:
            raise McpToolError(f"the {name} server does not offer {spec.tool} (any more)")
        if listed.problems:
            raise McpToolError(f"the {name} server describes {spec.tool} in a way this worker cannot offer")
        if listed.parameters != spec.parameters:  # offered while the server was unavailable
            problems = ArgumentValidator(spec.name, listed.parameters).problems(args)
            if problems:
                raise McpToolError("invalid arguments: " + "; ".join(problems[:3]))
        try:
            result = await server.connection.call(spec.tool, args)
        except McpToolError as exc:
            if exc.answered and await self._gone(server, spec, ctx, deadline - loop.time()):
                raise McpToolError(f"the {name} server no longer offers {spec.tool}") from None
            raise
        if result.is_error:
            if await self._gone(server, spec, ctx, deadline - loop.time()):
                raise McpToolError(f"the {name} server no longer offers {spec.tool}")
            said = result_text(result, ERROR_CHARS)[0].replace("\n", " ")
            raise McpToolError(f"the {name} server answered with an error: {said}")
        return result_text(result, spec.server.max_result_chars)[0]

    # --- listing ------------------------------------------------------------------------------------

    def _of(self, role: Role) -> list[_Server]:
        specs = {_key(t.server): t.server for t in role.tools if isinstance(t, McpTool)}
        return [self._server(spec) for spec in specs.values()]

    def _server(self, spec: McpServer) -> _Server:
        return self._servers.setdefault(_key(spec), _Server(spec))

    async def _list(self, server: _Server, ctx: SessionContext, *, fresh: bool = False) -> None:
        async with server.lock:
            if server.listing is not None and not fresh:
                return
            name = server.spec.server
            try:
                if server.connection is None:
                    endpoint = endpoint_for(server.spec, ctx.settings, stand_in=self.stand_in)
                    server.connection = Connection(endpoint, spawn=ctx.lifecycle.spawn)
                key = server.connection.endpoint.key
                found = None if fresh else listing.cached(key, ctx.settings.mcp_list_ttl_s)
                server.listing = found or await listing.fetch(server.connection)
            except ToolFailure as exc:
                if server.listing is None:
                    server.problem = str(exc)
                    logger.warning(
                        "MCP server %s unavailable: %s; its tools are offered as unavailable",
                        name,
                        exc,
                        extra=ctx.log_extra,
                    )
                return
            if server.problem is not None:
                logger.info("MCP server %s is available again", name, extra=ctx.log_extra)
            server.problem = None
            self._note_unusable(server, ctx)

    async def _gone(self, server: _Server, spec: McpTool, ctx: SessionContext, left_s: float) -> bool:
        """Whether a fresh listing (within `left_s`) no longer has `spec`'s tool."""
        if left_s <= 0:
            return False
        try:
            async with asyncio.timeout(left_s):
                await self._list(server, ctx, fresh=True)
        except TimeoutError:
            return False
        return server.listing is not None and spec.tool not in server.listing.tools

    def _note_unusable(self, server: _Server, ctx: SessionContext) -> None:
        assert server.listing is not None
        wanted = [choice.tool for choice in server.spec.tools]
        for tool in wanted:
            listed = server.listing.tools.get(tool)
            if listed is None:
                logger.warning(
                    "MCP server %s does not list %s; it is not offered",
                    server.spec.server,
                    tool,
                    extra=ctx.log_extra,
                )
            elif listed.problems:
                logger.warning(
                    "MCP server %s: the schema of %s is not offered (%s)",
                    server.spec.server,
                    tool,
                    "; ".join(listed.problems[:3]),
                    extra=ctx.log_extra,
                )


def _key(spec: McpServer) -> str:
    return spec.model_dump_json()


def endpoint_for(spec: McpServer, settings: Settings, *, stand_in: str | None = None) -> Endpoint:
    """Where `spec` is on this worker (McpToolError, or HttpToolError for headers, if it may not be)."""
    if stand_in is not None:  # an eval's local stand-in: none of the role's headers go there
        loopback = EgressPolicy(frozenset({"127.0.0.1"}))
        return Endpoint(spec.server, stand_in, "streamable-http", spec.timeout_s, loopback)
    url = settings.http_tool_url(spec.url)
    host = (urlsplit(url).hostname or "").lower()
    allowed = settings.allowed_http_hosts()
    if allowed is not None and host not in allowed:
        logger.warning("MCP server %s: host %r is not in ROLECALL_HTTP_ALLOWED_HOSTS", spec.server, host)
        raise McpToolError(f"host {host!r} is not allowed on this worker")
    headers = {"User-Agent": "RoleCall-worker", **expand_headers(spec.headers, settings.role_policy())}
    return Endpoint(
        server=spec.server,
        url=url,
        transport=spec.transport,
        timeout_s=spec.timeout_s,
        egress=EgressPolicy.from_settings(settings),
        headers=headers,
    )
