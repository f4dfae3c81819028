"""Model connections opened by an idle job process before any job arrives, so a session greets at once.

`worker.server.prewarm` builds a `Preopened` for the models the roles use (one connection per distinct
WebSocket URL: the Realtime URL names the model, GPT-Live has one URL) and starts it on the job's event
loop (`worker._livekit_compat.on_job_loop`). When the job's first model session connects it calls
`take(url)`: a matching open connection is handed over (with the events the server sent while it
waited, `session.created`), and it sends its role's `session.update` as its first message. The other
connections are closed then: a job process runs one job.

Limits: an open, unused Realtime connection is not billed, but its session clock runs from the
handshake. Each connection is closed and reopened after `max_age_s` (ROLECALL_MODEL_PREOPEN_MAX_AGE_S),
well inside the provider's session limit even with a full session after it; one the server closes or
that fails is reopened with back-off. All are closed when the job process's loop ends (the loop's
shutdown cancels the keepers, which close their connection), and the OS closes them if it is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import aiohttp
from livekit.plugins.openai.realtime.realtime_model import OPENAI_BASE_URL, process_base_url

from worker._livekit_compat import live_sessions_url
from worker.live import SIMULATOR_KEY
from worker.roles import Role
from worker.settings import Settings

logger = logging.getLogger("rolecall.preopen")

PREOPENED = "rolecall.preopened"
"""Key of the `Preopened` that `worker.server.prewarm` leaves in an idle job process's `userdata`."""
CONNECT_TIMEOUT_S = 10.0
"""How long one handshake may take before it is retried."""
MAX_BACKOFF_S = 30.0
"""Longest wait between failed attempts (doubling from 1 s)."""
MAX_TARGETS = 4
"""Connections one idle process holds at most (roles on more distinct models connect when the job starts)."""
MAX_WAITING = 16
"""Server events kept while idle (`session.created`); a server sending more gets a fresh connection."""
_CLOSED = (
    aiohttp.WSMsgType.CLOSE,
    aiohttp.WSMsgType.CLOSING,
    aiohttp.WSMsgType.CLOSED,
    aiohttp.WSMsgType.ERROR,
)


@dataclass(frozen=True)
class Target:
    """A model endpoint to keep a connection open to."""

    url: str
    headers: dict[str, str] = field(hash=False, compare=False)


def targets_for(roles: Iterable[Role], settings: Settings) -> list[Target]:
    """One target per distinct model URL of `roles`, in order, at most `MAX_TARGETS` (the URLs the
    models' sessions compute: `worker.realtime.build_model` passes the same base URL and key)."""
    base = settings.openai_base_url or OPENAI_BASE_URL
    key = settings.openai_api_key or (SIMULATOR_KEY if settings.openai_base_url else "")
    headers = {"Authorization": f"Bearer {key}", "User-Agent": "LiveKit Agents"}
    urls: list[str] = []
    for role in roles:
        url = live_sessions_url(base) if role.model.live else process_base_url(base, role.model.name)
        if url not in urls:
            urls.append(url)
    if len(urls) > MAX_TARGETS:
        logger.info("pre-opening %d of %d model URLs; the others connect per job", MAX_TARGETS, len(urls))
    return [Target(u, headers) for u in urls[:MAX_TARGETS]]


class HandedOver:
    """A pre-opened connection as a session receives it: the events the server sent while it waited
    come first from `receive()`; `close()` also lets the pool release its HTTP session; everything else
    is the `aiohttp` WebSocket itself."""

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        waiting: list[aiohttp.WSMessage],
        on_close: Callable[[], Awaitable[None]],
    ) -> None:
        self._ws = ws
        self._waiting = waiting
        self._on_close = on_close

    async def receive(self, timeout: float | None = None) -> aiohttp.WSMessage:  # noqa: ASYNC109 - aiohttp's
        """The next message: one kept while idle, then the socket's."""
        if self._waiting:
            return self._waiting.pop(0)
        return await self._ws.receive(timeout)

    async def close(self, **kwargs: Any) -> bool:
        """Close the socket, then the pool's HTTP session (it has nothing else open by then)."""
        try:
            return await self._ws.close(**kwargs)
        finally:
            await self._on_close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)


@dataclass
class _Slot:
    target: Target
    ws: aiohttp.ClientWebSocketResponse | None = None
    waiting: list[aiohttp.WSMessage] = field(default_factory=list)
    opened_at: float = 0.0
    keeper: asyncio.Task[None] | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)


class Preopened:
    """Open connections to `targets`, kept fresh until a job takes one (then the rest are closed)."""

    def __init__(self, targets: list[Target], *, max_age_s: float) -> None:
        self.targets = targets
        self.max_age_s = max_age_s
        self.opened = 0
        """Connections opened so far (reopens included)."""
        self.taken: str | None = None
        """URL of the connection handed to the job, once one was."""
        self._slots: dict[str, _Slot] = {}
        self._http: aiohttp.ClientSession | None = None
        self._done = False
        self._closing: asyncio.Future[None] | None = None
        self._handed: aiohttp.ClientWebSocketResponse | None = None

    def start(self) -> None:
        """Start keeping the connections open (on the job's event loop)."""
        if self._done or self._slots:
            return
        self._http = aiohttp.ClientSession()
        for t in self.targets:
            slot = self._slots[t.url] = _Slot(t)
            slot.keeper = asyncio.create_task(self._keep(slot), name=f"rolecall.preopen {t.url}")

    async def take(self, url: str) -> aiohttp.ClientWebSocketResponse | None:
        """The open connection to `url`, handed over once (None: none open; the caller connects itself).

        The first call also ends every other connection: this process's job has started."""
        if self._done:
            return None
        self._done = True
        slot = self._slots.get(url)
        handed = None
        if slot is not None and slot.ws is not None and not slot.ws.closed:
            ws, waiting = slot.ws, slot.waiting
            slot.ws, slot.waiting = None, []  # the keeper's cleanup no longer closes it
            # before the keeper stops: its last act is `_release`, which would otherwise close the HTTP
            # session, and with it this socket, when it is the only keeper
            self._handed = ws
            await _stop(slot.keeper)
            if not ws.closed:
                self.taken = url
                # duck-typed: the session uses receive, send_str, close and closed
                handed = cast(aiohttp.ClientWebSocketResponse, HandedOver(ws, waiting, self._release))
                logger.debug("model connection pre-opened %.1f s ago handed to the job", self._age(slot))
        self._closing = asyncio.ensure_future(self.aclose())  # the others are not needed by this job
        return handed

    async def aclose(self) -> None:
        """Close every connection not handed over (idempotent); the HTTP session once nothing uses it."""
        self._done = True
        for slot in self._slots.values():
            await _stop(slot.keeper)
        await self._release()

    async def _release(self) -> None:
        """Close the HTTP session, unless a keeper still runs or the handed-over socket is still open:
        closing it would cut that socket too."""
        if self._http is None or (self._handed is not None and not self._handed.closed):
            return
        me = asyncio.current_task()
        if any(
            s.keeper is not None and s.keeper is not me and not s.keeper.done() for s in self._slots.values()
        ):
            return
        http, self._http = self._http, None
        await http.close()

    def open_now(self) -> list[str]:
        """URLs with an open, unused connection right now."""
        return [u for u, s in self._slots.items() if s.ws is not None and not s.ws.closed]

    async def wait_open(self) -> None:
        """Until every target has been opened once (or failed once)."""
        await asyncio.gather(*(s.ready.wait() for s in self._slots.values()))

    def _age(self, slot: _Slot) -> float:
        return time.monotonic() - slot.opened_at

    async def _keep(self, slot: _Slot) -> None:
        """Open, hold (reading what the server sends) until too old or closed, reopen; until taken."""
        backoff = 1.0
        try:
            while not self._done:
                ws = await self._open(slot)
                slot.ready.set()
                if ws is None:
                    await asyncio.sleep(backoff)
                    backoff = min(MAX_BACKOFF_S, backoff * 2)
                    continue
                backoff = 1.0
                try:
                    reason = await self._hold(slot, ws)
                finally:
                    if slot.ws is ws:  # not handed over
                        slot.ws, slot.waiting = None, []
                        await ws.close()
                logger.debug("pre-opened model connection %s; reopening", reason)
        finally:
            slot.ready.set()
            await self._release()  # the last keeper to end (the loop's shutdown cancels them) closes it

    async def _open(self, slot: _Slot) -> aiohttp.ClientWebSocketResponse | None:
        assert self._http is not None
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                ws = await self._http.ws_connect(slot.target.url, headers=slot.target.headers)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            logger.warning("could not pre-open a model connection (%s); retrying", _describe(exc))
            return None
        slot.ws, slot.waiting, slot.opened_at = ws, [], time.monotonic()
        self.opened += 1
        return ws

    async def _hold(self, slot: _Slot, ws: aiohttp.ClientWebSocketResponse) -> str:
        try:
            async with asyncio.timeout(self.max_age_s):
                while True:
                    msg = await ws.receive()
                    if msg.type in _CLOSED:
                        return "closed by the server"
                    if len(slot.waiting) >= MAX_WAITING:
                        return "sent too many events while idle"
                    slot.waiting.append(msg)
        except TimeoutError:
            return f"reached its maximum age of {self.max_age_s:.0f} s"


async def _stop(task: asyncio.Task[None] | None) -> None:
    if task is None or task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        return f"handshake refused with HTTP {exc.status}"
    return type(exc).__name__ + (f": {exc}" if str(exc) else "")
