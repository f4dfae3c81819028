"""Serve the web backend with deadlines for slow clients (slowloris) and a cap on connections.

aiohttp 3.14 has no timeout of its own for reading a request's headers or body. Here:

- headers: aiohttp's keep-alive timer starts when a connection opens, and when it fires it closes
  the connection if no complete request head has arrived. A short `keepalive_timeout`
  (HEADER_TIMEOUT_S) is therefore a deadline for the head, counted from the connection's start
  (a client dripping a byte a second does not extend it), and the idle limit between requests.
- body: `read_body` gives up after `worker.web.app.BODY_TIMEOUT_S` (408); a body no handler reads
  is drained for at most LINGERING_TIME_S, then the connection is closed.
- connections: past MAX_CONNECTIONS a new connection is answered 503 and closed, which keeps file
  descriptors for the LiveKit API client and the static files.

A reverse proxy in front can set tighter limits per client; these hold without one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import cast

from aiohttp import web

logger = logging.getLogger("rolecall.web")

HEADER_TIMEOUT_S = 5.0
"""Longest a connection may take to send a complete request head; also the keep-alive idle limit."""
LINGERING_TIME_S = 2.0
"""Longest the server reads (and drops) the rest of a body the handler did not read."""
MAX_CONNECTIONS = 512
"""Open connections served at once (half the common 1,024 open-file limit); more get 503."""
ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tfs'
"""Client, request line, status, bytes, seconds: no Referer or User-Agent in the log."""

_BUSY_BODY = b'{"error":{"code":"busy","message":"too many open connections; try again soon"}}'
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
    b"Retry-After: 1\r\nContent-Length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)


class _Busy(asyncio.Protocol):
    """A connection over the cap: answer 503 at once and close, without reading the request."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        cast(asyncio.Transport, transport).write(_BUSY)
        transport.close()


class _Gate:
    """The listening socket's protocol factory: aiohttp's handler, or _Busy past the cap."""

    def __init__(self, server: web.Server, max_connections: int) -> None:
        self._server = server
        self._max = max_connections
        self._refusing = False

    def __call__(self) -> asyncio.BaseProtocol:
        # aiohttp registers a connection one loop step after this call, so a burst of accepts can
        # pass the cap by at most the listen backlog; the cap is about file descriptors, not exact.
        if len(self._server.connections) < self._max:
            self._refusing = False
            return self._server()
        if not self._refusing:  # once per episode: a flood must not flood the log too
            logger.warning("%d connections open: refusing new ones with 503", self._max)
            self._refusing = True
        return _Busy()


@contextlib.asynccontextmanager
async def serving(
    app: web.Application,
    host: str,
    port: int,
    *,
    max_connections: int = MAX_CONNECTIONS,
    handle_signals: bool = False,
) -> AsyncIterator[int]:
    """Serve `app` on host:port (0: any free port) while inside; yields the bound port."""
    runner = web.AppRunner(
        app,
        handle_signals=handle_signals,
        keepalive_timeout=HEADER_TIMEOUT_S,
        lingering_time=LINGERING_TIME_S,
        access_log_format=ACCESS_LOG_FORMAT,
    )
    await runner.setup()
    listener: asyncio.Server | None = None
    try:
        assert runner.server is not None  # set by setup()
        loop = asyncio.get_running_loop()
        listener = await loop.create_server(_Gate(runner.server, max_connections), host, port)
        yield listener.sockets[0].getsockname()[1]
    finally:
        if listener is not None:
            listener.close()
        await runner.cleanup()


def serve_forever(app: web.Application, host: str, port: int, *, on_ready: Callable[[int], None]) -> None:
    """Serve until SIGINT/SIGTERM; `on_ready(port)` once listening. OSError if it cannot listen."""

    async def main() -> None:
        async with serving(app, host, port, handle_signals=True) as bound:
            on_ready(bound)
            await asyncio.Event().wait()  # until a signal raises GracefulExit

    with contextlib.suppress(web.GracefulExit, KeyboardInterrupt):
        asyncio.run(main())
