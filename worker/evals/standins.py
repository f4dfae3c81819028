"""What an eval puts where the user's page and the app backend would be.

- `StandInPage` answers the frontend tools' RPCs from the eval file's `ui:` (default `{"ok": true}`),
  behind the worker's real `FrontendBridge` (payload limits, JSON handling).
- `MockBackend` is a local HTTP server answering the http tools from `mocks:`. The eval's HTTP client
  sends every request there instead of the role's URL (a client middleware), so the worker's real
  `post_json` still runs: host allowlist, signing, timeout, size cap and JSON checks. It verifies the
  signature when the tool has a secret.
- `McpStandIn` is a local MCP server (the official SDK's) answering the mcp tools from `mocks:` too,
  by the role's tool name; the session reaches it instead of each role's server (`McpState.stand_in`),
  through the worker's real MCP client, listing, argument checks and result handling. It lists each
  tool with open parameters: the server's real schemas are not known offline.

`python` tools need no stand-in: their functions run, as in the worker.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import mcp_types
from aiohttp import web
from yarl import URL

from worker.roles import FrontendTool, HttpTool, McpTool, Role
from worker.signing import SIGNATURE_HEADER, SignatureError, verify

DEFAULT_ANSWER: dict[str, Any] = {"ok": True}
EVAL_SECRET = "rolecall-eval-secret"
"""The signing secret set for http tools whose secret variable is unset, in mock mode only."""


@dataclass
class StandInPage:
    """A page that implements every frontend tool and answers from the eval file."""

    answers: Mapping[str, Any]
    methods: Mapping[str, str]
    """RPC method -> tool name, over every role (a role may rename a tool's method)."""
    received: list[tuple[str, Any]] = field(default_factory=list)

    async def perform_rpc(
        self,
        *,
        destination_identity: str,
        method: str,
        payload: str,
        response_timeout: float | None = None,
    ) -> str:
        tool = self.methods.get(method, method)
        self.received.append((tool, json.loads(payload)))
        return json.dumps(self.answers.get(tool, DEFAULT_ANSWER))


def frontend_methods(roles: list[Role]) -> dict[str, str]:
    """RPC method -> tool name for the frontend tools of `roles`."""
    return {t.method: t.name for r in roles for t in r.tools if isinstance(t, FrontendTool)}


class MockBackend:
    """The app backend of `http: mock` evals."""

    def __init__(self, answers: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        self.answers = answers
        self.secrets = secrets
        """Tool name -> the secret its requests are signed with."""
        self.received: list[tuple[str, Any]] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        tool = request.headers.get("X-RoleCall-Tool", "")
        body = await request.read()
        secret = self.secrets.get(tool)
        if secret:
            try:
                verify(secret, body, request.headers.get(SIGNATURE_HEADER))
            except SignatureError as exc:
                return web.json_response({"error": str(exc)}, status=401)
        self.received.append((tool, json.loads(body or b"{}")))
        return web.json_response(self.answers.get(tool, DEFAULT_ANSWER))

    def client(self) -> aiohttp.ClientSession:
        """An HTTP client whose requests all go to this server (path and headers kept)."""
        target = URL(self.url)

        async def redirect(
            request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
        ) -> aiohttp.ClientResponse:
            request.headers["X-RoleCall-Original-URL"] = str(request.url)
            request.url = request.url.with_scheme("http").with_host(str(target.host)).with_port(target.port)
            return await handler(request)

        return aiohttp.ClientSession(middlewares=(redirect,))


class McpStandIn:
    """The MCP servers of `mcp` tools in `http: mock` evals: one local server answering from `mocks:`."""

    def __init__(self, answers: Mapping[str, Any], tools: Mapping[str, str]) -> None:
        self.answers = answers
        self.tools = tools
        """The server's tool name -> the role's name for it (the key of its answer)."""
        self.received: list[tuple[str, Any]] = []
        self.url = ""
        self._server: Any = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        import uvicorn
        from mcp.server.lowlevel import Server

        server: Server[Any] = Server("rolecall-eval", on_list_tools=self._list, on_call_tool=self._call)
        config = uvicorn.Config(
            server.streamable_http_app(), host="127.0.0.1", port=0, log_level="error", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()  # it could not start: say why
            await asyncio.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/mcp"

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task

    async def _list(self, ctx: Any, params: Any) -> mcp_types.ListToolsResult:
        open_parameters: dict[str, Any] = {"type": "object", "properties": {}}
        return mcp_types.ListToolsResult(
            tools=[
                mcp_types.Tool(name=tool, description=f"Stand-in for {name}.", input_schema=open_parameters)
                for tool, name in self.tools.items()
            ]
        )

    async def _call(self, ctx: Any, params: mcp_types.CallToolRequestParams) -> mcp_types.CallToolResult:
        name = self.tools.get(params.name, params.name)
        self.received.append((name, params.arguments or {}))
        answer = json.dumps(self.answers.get(name, DEFAULT_ANSWER), ensure_ascii=False)
        return mcp_types.CallToolResult(content=[mcp_types.TextContent(text=answer)])


def mcp_tools(roles: list[Role]) -> dict[str, str]:
    """The server's tool name -> the role's name for it, for the mcp tools of `roles`."""
    found: dict[str, str] = {}
    for role in roles:
        for tool in role.tools:
            if isinstance(tool, McpTool):
                found.setdefault(tool.tool, tool.name)
    return found


def http_secrets(roles: list[Role]) -> dict[str, str]:
    """Tool name -> secret environment variable, for the http tools of `roles` that sign."""
    return {t.name: t.secret_env for r in roles for t in r.tools if isinstance(t, HttpTool) and t.secret_env}


@contextmanager
def mock_secrets(names: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """Set each unset secret variable to `EVAL_SECRET` while mocking; yield tool name -> secret."""
    added = [env for env in set(names.values()) if not os.environ.get(env)]
    for env in added:
        os.environ[env] = EVAL_SECRET
    try:
        yield {tool: os.environ[env] for tool, env in names.items()}
    finally:
        for env in added:
            os.environ.pop(env, None)
