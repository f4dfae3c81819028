"""One session's connection to one MCP server, over the official SDK (`mcp.Client`).

The SDK's client lives inside anyio task groups, which must be left by the task that entered them, so
one task owns each connection (as livekit-agents' `MCPServer` does): it opens the client, hands it
over, and holds it open until the session ends. Requests run beside it; if the connection dies under
a request (the server went away), the request fails at once instead of waiting for its timeout.

A connection that ended (the server went away: an SSE stream closes, the owner task fails) is opened
again by the next request, before anything is sent on it. A request the server refused because it no
longer knows the session (a server that restarted answers HTTP 404 to the old session id, which the MCP
specification tells clients to answer with a new session) never ran, so it is sent once more on a new
connection; nothing else is retried, since a tool may have run already.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import httpx2
import mcp_types
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from worker.tools.egress import EgressPolicy
from worker.tools.guard import ToolFailure
from worker.tools.mcp import transport

logger = logging.getLogger("rolecall.tools.mcp")

T = TypeVar("T")
Spawn = Callable[[Coroutine[Any, Any, None]], "asyncio.Task[None]"]
MAX_PAGES = 20
"""Pages of a tool listing read at most (a server that never ends its listing cannot hang a session)."""
CLIENT_INFO = mcp_types.Implementation(name="rolecall", version="0.1.0")


class McpToolError(ToolFailure):
    """An MCP server could not be reached, or a request to it failed; the text says why."""

    def __init__(self, reason: str, *, answered: bool = False) -> None:
        super().__init__(reason)
        self.answered = answered
        """The server answered (it refused the request): it is up, and the call did not run."""


@dataclass(frozen=True)
class Endpoint:
    """Where one MCP server is and how it is reached, fixed from the role and the worker's settings."""

    server: str
    """The role's short name for the server."""
    url: str
    transport: Literal["streamable-http", "sse"]
    timeout_s: float
    egress: EgressPolicy
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    """With `${NAME}` references expanded: never logged."""

    @property
    def key(self) -> str:
        """Tells endpoints apart (its listing is cached under it) without holding their secrets."""
        material = json.dumps([self.transport, self.url, sorted(self.headers.items())])
        return hashlib.sha256(material.encode()).hexdigest()[:32]


@dataclass
class _Live:
    client: Client
    owner: asyncio.Task[None]


class Connection:
    """A live MCP client session to `endpoint`, opened on first use and again after it dies."""

    def __init__(self, endpoint: Endpoint, spawn: Spawn | None = None) -> None:
        self.endpoint = endpoint
        self._spawn: Spawn = spawn or (lambda coro: asyncio.get_running_loop().create_task(coro))
        self._live: _Live | None = None
        self._opening = asyncio.Lock()
        self._closing = asyncio.Event()
        self._status: int | None = None
        """The last HTTP error status the server answered, for messages ("it answered HTTP 401")."""

    async def list_tools(self) -> list[mcp_types.Tool]:
        """Every tool the server lists now (all pages)."""

        async def fetch(client: Client) -> list[mcp_types.Tool]:
            tools: list[mcp_types.Tool] = []
            cursor: str | None = None
            for _ in range(MAX_PAGES):
                page = await client.list_tools(cursor=cursor)
                tools.extend(page.tools)
                cursor = page.next_cursor
                if not cursor:
                    break
            return tools

        return await self._request(fetch, "listing its tools")

    async def call(self, name: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        """Call tool `name` (the server's name for it)."""
        return await self._request(lambda client: client.call_tool(name, arguments), f"calling {name}")

    async def aclose(self) -> None:
        """Close the connection (the next request would open a new one)."""
        live, self._live = self._live, None
        if live is not None:
            self._closing.set()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(live.owner), self.endpoint.timeout_s)
            live.owner.cancel()

    # --- one request, beside the task that owns the connection --------------------------------------

    async def _request(self, send: Callable[[Client], Awaitable[T]], doing: str) -> T:
        name = self.endpoint.server
        try:
            async with asyncio.timeout(self.endpoint.timeout_s):
                for attempt in range(2):
                    live = await self._open()
                    self._status = None
                    request = asyncio.ensure_future(send(live.client))
                    try:
                        await asyncio.wait({request, live.owner}, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        if not request.done():
                            request.cancel()
                    failure = None if request.cancelled() or not request.done() else request.exception()
                    if not request.done() or request.cancelled() or _connection_closed(failure):
                        self._forget(live)  # the connection died under it: the tool may have run
                        raise McpToolError(f"the {name} server went away while {doing}")
                    if failure is None:
                        return request.result()
                    if attempt == 0 and _session_lost(failure, self._status):
                        logger.info("MCP server %s lost the session; connecting again", name)
                        self._forget(live)
                        continue
                    answered = isinstance(failure, MCPError)
                    raise McpToolError(self._reason(failure, doing), answered=answered) from None
        except TimeoutError:
            waited = self.endpoint.timeout_s
            raise McpToolError(f"the {name} server did not answer within {waited:g} s") from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _open(self) -> _Live:
        async with self._opening:
            live = self._live
            if live is not None and not live.owner.done() and not _ended(live.client):
                return live
            if live is not None:
                self._forget(live)
            self._closing = asyncio.Event()
            ready: asyncio.Future[Client] = asyncio.get_running_loop().create_future()
            owner = self._spawn(self._own(ready))
            try:
                client = await ready
            except asyncio.CancelledError:
                owner.cancel()
                raise
            except BaseException as exc:
                raise McpToolError(self._reason(exc, "connecting")) from None
            self._live = _Live(client, owner)
            return self._live

    def _forget(self, live: _Live) -> None:
        if self._live is live:
            self._live = None
        live.owner.cancel()

    async def _own(self, ready: asyncio.Future[Client]) -> None:
        """The connection's owner: open it, hand it over, hold it until closed (or until it dies)."""
        try:
            async with self._client() as client:
                ready.set_result(client)
                await self._closing.wait()
        except asyncio.CancelledError:
            if not ready.done():
                ready.cancel()
            raise
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            else:
                logger.info(
                    "MCP server %s: connection closed (%s)",
                    self.endpoint.server,
                    self._reason(exc, "connected"),
                )

    @contextlib.asynccontextmanager
    async def _client(self) -> AsyncIterator[Client]:
        endpoint = self.endpoint

        async def note_status(response: httpx2.Response) -> None:
            if response.status_code >= 400:
                self._status = response.status_code

        def http_client(
            headers: dict[str, str] | None = None,
            timeout: httpx2.Timeout | None = None,
            auth: httpx2.Auth | None = None,
        ) -> httpx2.AsyncClient:
            # The SDK's SSE transport asks for a client with its own settings; ours are the endpoint's.
            made = transport.client(endpoint.egress, endpoint.headers, endpoint.timeout_s)
            made.event_hooks["response"] = [note_status]
            return made

        async with contextlib.AsyncExitStack() as stack:
            if endpoint.transport == "sse":
                streams = sse_client(
                    endpoint.url, timeout=endpoint.timeout_s, httpx_client_factory=http_client
                )
            else:
                http = await stack.enter_async_context(http_client())
                streams = streamable_http_client(
                    endpoint.url, http_client=http, max_sse_event_size=transport.MAX_ANSWER_BYTES
                )
            client = Client(streams, cache=None, client_info=CLIENT_INFO)
            yield await stack.enter_async_context(client)

    # --- what went wrong, in words the model (and the log) can use ---------------------------------------

    def _reason(self, exc: BaseException, doing: str) -> str:
        name = self.endpoint.server
        refused = transport.refusal(exc)
        if refused:
            return refused
        leaf = _leaf(exc)
        if isinstance(leaf, MCPError):
            if self._status is not None and leaf.code in _HTTP_STAND_INS:
                return f"the {name} server answered HTTP {self._status} while {doing}"
            return f"the {name} server refused {doing}: {_short(leaf.message)}"
        if isinstance(leaf, httpx2.HTTPStatusError):
            return f"the {name} server answered HTTP {leaf.response.status_code} while {doing}"
        if isinstance(leaf, httpx2.ConnectError | httpx2.ConnectTimeout):
            return f"the {name} server could not be reached ({_short(str(leaf)) or 'no connection'})"
        if isinstance(leaf, httpx2.TimeoutException | TimeoutError):
            return f"the {name} server did not answer within {self.endpoint.timeout_s:g} s"
        if isinstance(leaf, httpx2.HTTPError):
            return f"the connection to the {name} server failed while {doing} ({type(leaf).__name__})"
        return f"the {name} server could not be used ({type(leaf).__name__}: {_short(str(leaf))})"


_HTTP_STAND_INS = (mcp_types.INTERNAL_ERROR, mcp_types.METHOD_NOT_FOUND)
"""The codes the SDK's transport gives an HTTP error status that came without a JSON-RPC error."""


def _connection_closed(exc: BaseException | None) -> bool:
    return isinstance(exc, MCPError) and exc.code == mcp_types.CONNECTION_CLOSED


def _ended(client: Client) -> bool:
    """Whether the client's connection has ended (its server closed the stream it answers on).

    The SDK keeps this in its dispatcher, without a public name; if that ever changes, a request sent on
    an ended connection fails as "went away" and the next one reconnects
    (tests/session/test_mcp_tools.py restarts an SSE server to hold this).
    """
    dispatcher = getattr(client.session, "_dispatcher", None)
    return getattr(dispatcher, "_closed", False) is True


def _session_lost(exc: BaseException, status: int | None) -> bool:
    """A server's answer to a session it does not know (it restarted): the request never ran. The SDK
    passes on the server's own JSON-RPC error with the 404, or says "Session terminated" without one."""
    return (
        isinstance(exc, MCPError)
        and exc.code == mcp_types.INVALID_REQUEST
        and (status == 404 or exc.message == "Session terminated")
    )


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside exception groups (anyio wraps what a task group's tasks raise)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
