"""The HTTP client of MCP connections: the egress checks of http tools, and a cap on answers.

The MCP SDK speaks HTTP through `httpx2`; this client connects the way http tools do
(`worker.tools.egress`): every address a host resolves to passes `GuardedResolver` (public addresses,
and the hosts the operator allows), no proxy from the environment, and redirects only where the SDK
allows them (the endpoint's own origin). A JSON answer longer than `MAX_ANSWER_BYTES` is refused
while it arrives, so a server cannot fill the worker's memory; event streams are capped per event.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterable, Mapping

import httpcore2
import httpx2

from worker.tools.egress import EgressPolicy, EgressRefused, GuardedResolver

MAX_ANSWER_BYTES = 8 * 1024 * 1024
"""The longest JSON answer or server-sent event read from an MCP server."""
STREAM_READ_TIMEOUT_S = 300.0
"""How long a server-sent event stream may stay silent (a server holds it open between events)."""


def client(policy: EgressPolicy, headers: Mapping[str, str], timeout_s: float) -> httpx2.AsyncClient:
    """An httpx2 client for one MCP server: guarded connections, `headers` on every request."""
    return httpx2.AsyncClient(
        transport=GuardedTransport(policy),
        headers=dict(headers),
        timeout=httpx2.Timeout(timeout_s, read=STREAM_READ_TIMEOUT_S),
        trust_env=False,
        follow_redirects=False,
    )


class GuardedTransport(httpx2.AsyncHTTPTransport):
    """httpx2's own transport over a connection pool whose connections `policy` vets."""

    def __init__(self, policy: EgressPolicy) -> None:
        super().__init__(trust_env=False)
        # httpx2 takes no network backend; its pool does. Replacing the pool it built is the one way
        # to put the address check under every connection (tests/tools/test_mcp_transport.py pins it).
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=httpx2.create_ssl_context(trust_env=False),
            network_backend=GuardedBackend(policy),
        )

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Send `request`; a JSON answer is read under `MAX_ANSWER_BYTES`."""
        response = await super().handle_async_request(request)
        stream = response.stream
        json_answer = response.headers.get("content-type", "").lower().startswith("application/json")
        if json_answer and isinstance(stream, httpx2.AsyncByteStream):
            response.stream = _Capped(stream, MAX_ANSWER_BYTES)
        return response


class GuardedBackend(httpcore2.AsyncNetworkBackend):
    """Connects only to the addresses `GuardedResolver` leaves (it refuses the rest with a reason)."""

    def __init__(self, policy: EgressPolicy) -> None:
        self._resolver = GuardedResolver(policy)
        self._backend = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        """A connection to the first address of `host` that the policy allows and that answers."""
        try:
            results = await self._resolver.resolve(host, port, socket.AF_UNSPEC)
        except EgressRefused as exc:
            raise httpcore2.ConnectError(str(exc)) from exc
        except OSError as exc:
            raise httpcore2.ConnectError(f"{host} cannot be resolved ({exc})") from exc
        failure: httpcore2.ConnectError | None = None
        for result in results:
            try:
                return await self._backend.connect_tcp(
                    result["host"], port, timeout, local_address, socket_options
                )
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
                failure = httpcore2.ConnectError(str(exc) or type(exc).__name__)
        raise failure or httpcore2.ConnectError(f"{host} has no address")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        """Never: MCP servers are reached over TCP."""
        raise httpcore2.ConnectError("MCP servers are reached over TCP only")

    async def sleep(self, seconds: float) -> None:
        """Sleep (the pool's retries wait with it)."""
        await self._backend.sleep(seconds)


class _Capped(httpx2.AsyncByteStream):
    def __init__(self, stream: httpx2.AsyncByteStream, cap: int) -> None:
        self._stream = stream
        self._cap = cap

    async def __aiter__(self) -> AsyncIterator[bytes]:
        received = 0
        async for chunk in self._stream:
            received += len(chunk)
            if received > self._cap:
                # The SDK turns a StreamError while reading an answer into a failed request (not a
                # broken connection): the call fails with this reason.
                raise httpx2.StreamError(f"the server's answer is larger than {self._cap} bytes")
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


def refusal(exc: BaseException) -> str | None:
    """The egress policy's reason when `exc` (or what caused it) is a refused connection, else None."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, EgressRefused):
            return str(current)
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        stack.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return None
