"""A real MCP server for tests, built with the official SDK (`mcp.server.mcpserver.MCPServer`).

Tools with typed schemas (`search_recipes`, `get_recipe`), one slow (`slow`), one failing (`broken`),
one with a huge result (`huge`), one whose schema OpenAI would not take (`positive`), and one no role
allowlists (`delete_everything`). Besides MCP it
serves `GET /seen` (every MCP request it received: method, JSON-RPC method, tool, headers) and
`POST /remove/{tool}` (the tool disappears).

In a test's own event loop: `async with serving(transport) as server: server.url`. As a process (to
stop and restart it on the same port): `McpServerProcess(port, transport).start()`, or
`python -m tests.support.mcp_server PORT [streamable-http|sse] [legacy]`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

ROOT = Path(__file__).resolve().parents[2]
Transport = Literal["streamable-http", "sse"]
RECIPES = {
    "carbonara": {
        "name": "Spaghetti carbonara",
        "minutes": 25,
        "steps": ["boil pasta", "mix eggs and cheese"],
    },
    "limone": {"name": "Pasta al limone", "minutes": 15, "steps": ["boil pasta", "add lemon and butter"]},
}


def build_server() -> MCPServer:
    """The test server's tools."""
    server: MCPServer = MCPServer("kitchen")

    @server.tool()
    async def search_recipes(
        query: Annotated[str, Field(description="What the user wants to cook.", max_length=200)],
        max_results: Annotated[int, Field(ge=1, le=10, description="How many recipes at most.")] = 3,
    ) -> list[dict[str, Any]]:
        """Search the kitchen's recipes."""
        found = [{"id": k, **v} for k, v in RECIPES.items() if query.lower() in str(v["name"]).lower()]
        return found[:max_results] or [{"id": "limone", **RECIPES["limone"], "note": f"nothing for {query}"}]

    @server.tool()
    async def get_recipe(recipe_id: Literal["carbonara", "limone"]) -> dict[str, Any]:
        """One recipe with its steps."""
        return RECIPES[recipe_id]

    @server.tool()
    async def slow(seconds: Annotated[float, Field(ge=0, le=60)]) -> str:
        """Answers after `seconds`."""
        await asyncio.sleep(seconds)
        return f"done after {seconds} s"

    @server.tool()
    async def broken() -> str:
        """Always fails."""
        raise ToolError("the oven is on fire")

    @server.tool()
    async def huge(chars: Annotated[int, Field(ge=1, le=2_000_000)] = 100_000) -> str:
        """A very long text."""
        return "x" * chars

    @server.tool()
    async def positive(n: Annotated[int, Field(gt=0)]) -> int:
        """Its schema says exclusiveMinimum, which OpenAI function calling does not take."""
        return n

    @server.tool()
    async def delete_everything() -> str:
        """Not for voice agents: no role allowlists it."""
        return "deleted"

    return server


@dataclass
class Seen:
    """What the server received: one entry per HTTP request to its MCP endpoint."""

    requests: list[dict[str, Any]] = field(default_factory=list)

    def calls(self, tool: str | None = None) -> list[dict[str, Any]]:
        """The tools/call requests (of `tool`) the server took: not those it answered 404 (a session id it
        does not know, after a restart: the tool never ran)."""
        return [
            r
            for r in self.requests
            if r["rpc"] == "tools/call" and tool in (None, r["tool"]) and r.get("status") != 404
        ]


def build_app(transport: Transport, *, legacy: bool = False) -> tuple[Starlette, MCPServer, Seen]:
    """The server's ASGI app (MCP at /mcp or /sse, plus /seen and /remove/{tool}); `legacy`: it answers
    `server/discover` with "method not found", as servers from before the 2026 protocol do, so clients
    use the initialize handshake and a session id."""
    server = build_server()
    seen = Seen()

    @server.custom_route("/seen", methods=["GET"])
    async def show_seen(request: Request) -> Response:
        return JSONResponse(seen.requests)

    @server.custom_route("/remove/{tool}", methods=["POST"])
    async def remove(request: Request) -> Response:
        server.remove_tool(request.path_params["tool"])
        return JSONResponse({"removed": request.path_params["tool"]})

    app = server.sse_app() if transport == "sse" else server.streamable_http_app()
    return _Recorder(app, seen, legacy), server, seen  # type: ignore[return-value]


class _Recorder:
    """ASGI middleware that notes each MCP request (its headers and JSON-RPC method)."""

    def __init__(self, app: ASGIApp, seen: Seen, legacy: bool = False) -> None:
        self.app = app
        self.seen = seen
        self.legacy = legacy
        self.router = getattr(app, "router", None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in ("/seen",) or scope["path"].startswith("/remove/"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            parsed = json.loads(body) if body else {}
        except ValueError:
            parsed = {}
        params = parsed.get("params") if isinstance(parsed, dict) else None
        record: dict[str, Any] = {"status": None}
        self.seen.requests.append(record)
        record.update(
            {
                "method": scope["method"],
                "path": scope["path"],
                "rpc": parsed.get("method") if isinstance(parsed, dict) else None,
                "tool": params.get("name") if isinstance(params, dict) else None,
                "arguments": params.get("arguments") if isinstance(params, dict) else None,
                "headers": {k.decode(): v.decode() for k, v in scope["headers"]},
            }
        )
        if self.legacy and self.seen.requests[-1]["rpc"] == "server/discover":
            error = {"code": -32601, "message": "Method not found"}
            reply = json.dumps({"jsonrpc": "2.0", "id": parsed.get("id"), "error": error}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": reply})
            return
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def noting_status(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                record["status"] = message["status"]
            await send(message)

        await self.app(scope, replay, noting_status)


@dataclass
class Running:
    """A server running in this event loop."""

    port: int
    transport: Transport
    seen: Seen
    server: MCPServer

    @property
    def url(self) -> str:
        return endpoint(self.port, self.transport)


def endpoint(port: int, transport: Transport) -> str:
    """The MCP endpoint of a server on `port`."""
    return f"http://127.0.0.1:{port}/{'sse' if transport == 'sse' else 'mcp'}"


@contextlib.asynccontextmanager
async def serving(transport: Transport = "streamable-http", port: int = 0) -> AsyncIterator[Running]:
    """Run the server in the current event loop (on a free port, or `port`) for the block's duration."""
    app, server, seen = build_app(transport)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    runner = uvicorn.Server(config)
    task = asyncio.create_task(runner.serve())
    async with asyncio.timeout(20):
        while not runner.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
    port = runner.servers[0].sockets[0].getsockname()[1]
    try:
        yield Running(port, transport, seen, server)
    finally:
        runner.should_exit = True
        await task


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class McpServerProcess:
    """The server as a child process on a fixed port: it can be stopped and started again there."""

    def __init__(
        self,
        port: int,
        transport: Transport = "streamable-http",
        log: Path | None = None,
        *,
        legacy: bool = False,
    ) -> None:
        self.port = port
        self.transport = transport
        self.log = log
        self.legacy = legacy
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return endpoint(self.port, self.transport)

    def start(self, timeout: float = 30.0) -> McpServerProcess:
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.mcp_server",
                str(self.port),
                self.transport,
                *(["legacy"] if self.legacy else []),
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the MCP server exited with {self.proc.returncode}")
            try:
                self.seen()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the MCP server did not start within {timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def seen(self) -> Seen:
        """What the running process received so far."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/seen", timeout=5) as resp:
            return Seen(json.loads(resp.read()))

    def remove(self, tool: str) -> None:
        """Make `tool` disappear from the server."""
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/remove/{tool}", method="POST")
        with urllib.request.urlopen(req, timeout=5):
            pass


def main() -> None:
    port = int(sys.argv[1])
    transport: Transport = "sse" if len(sys.argv) > 2 and sys.argv[2] == "sse" else "streamable-http"
    app, _, _ = build_app(transport, legacy="legacy" in sys.argv[3:])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
