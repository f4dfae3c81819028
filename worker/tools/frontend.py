"""`frontend` tools: the model's call becomes a LiveKit RPC to the user's page, and back.

Calls go only to the participant the session serves (never broadcast). Every RPC failure becomes a
short sentence the model can speak about; the session carries on. Before offering frontend tools
the worker asks the page which ones it implements (the frontend library answers DISCOVERY_METHOD).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from livekit import rtc

logger = logging.getLogger("rolecall.frontend")

DISCOVERY_METHOD = "rolecall.tools"
"""RPC method the frontend library registers to list the tools this UI implements."""

ARRIVAL_SETTLE_S = 2.0
"""How long after a page joins the agent keeps asking for its tools while it answers "unsupported".
Only the JavaScript SDK registers RPC methods before connecting; pages built on the Python, Swift or
Android SDKs register them just after, and a discovery sent in between is refused."""

RPC_PAYLOAD_LIMIT = 15_360
"""LiveKit's RPC request and response payload limit, in UTF-8 bytes."""

_Code = rtc.RpcError.ErrorCode
_REASONS: dict[int, str] = {
    _Code.UNSUPPORTED_METHOD: "the user's screen does not support this action",
    _Code.RECIPIENT_NOT_FOUND: "the user's screen is not connected",
    _Code.RECIPIENT_DISCONNECTED: "the user's screen disconnected before answering",
    _Code.CONNECTION_TIMEOUT: "the user's screen could not be reached",
    _Code.RESPONSE_TIMEOUT: "the user's screen did not answer in time",
    _Code.RESPONSE_PAYLOAD_TOO_LARGE: "the screen's answer was too large to send back",
    _Code.REQUEST_PAYLOAD_TOO_LARGE: "the request was too large to send to the screen",
    _Code.SEND_FAILED: "the request could not be sent to the screen",
    _Code.UNSUPPORTED_SERVER: "the media server does not support screen actions",
    _Code.UNSUPPORTED_VERSION: "the user's screen runs an incompatible version",
}


class FrontendCallError(Exception):
    """An RPC to the page failed; `reason` is a short sentence for the model, `code` LiveKit's."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def describe_rpc_error(err: rtc.RpcError) -> str:
    """A short, speakable reason for an RPC error, including the page's own message for handler errors."""
    if err.code == _Code.APPLICATION_ERROR or err.code not in _REASONS:
        detail = (err.message or "").strip()[:200]
        return f"the screen reported an error: {detail}" if detail else "the screen reported an error"
    return _REASONS[err.code]


class RpcCaller(Protocol):
    """What the bridge needs from the agent's participant: `rtc.LocalParticipant` in a room, or an
    eval's stand-in page (`worker.evals`), which answers from the eval file without a room."""

    async def perform_rpc(
        self,
        *,
        destination_identity: str,
        method: str,
        payload: str,
        response_timeout: float | None = None,
    ) -> str: ...


@dataclass
class FrontendBridge:
    """RPC calls from the agent to one participant's page."""

    local: RpcCaller
    identity: str
    arrived_at: float | None = None
    """`time.monotonic()` when the page was seen joining; None when it was there before the agent."""

    def note_arrival(self) -> None:
        """The page has just joined (or rejoined): give it a moment to register its methods."""
        self.arrived_at = time.monotonic()

    async def call(self, method: str, arguments: dict[str, Any], *, timeout_s: float) -> str:
        """Invoke `method` with JSON `arguments`; return the page's JSON reply text."""
        payload = json.dumps(arguments, separators=(",", ":"), ensure_ascii=False)
        size = len(payload.encode())
        if size > RPC_PAYLOAD_LIMIT:
            raise FrontendCallError(
                f"the request is {size} bytes, over LiveKit's RPC limit of {RPC_PAYLOAD_LIMIT} bytes",
                _Code.REQUEST_PAYLOAD_TOO_LARGE,
            )
        try:
            reply = await self.local.perform_rpc(
                destination_identity=self.identity, method=method, payload=payload, response_timeout=timeout_s
            )
        except rtc.RpcError as err:
            raise FrontendCallError(describe_rpc_error(err), err.code) from None
        # Newer SDKs carry larger payloads over data streams; the model gets the same limit either way.
        reply_size = len(reply.encode())
        if reply_size > RPC_PAYLOAD_LIMIT:
            raise FrontendCallError(
                f"the screen's answer is {reply_size} bytes, over the RPC limit of {RPC_PAYLOAD_LIMIT} bytes",
                _Code.RESPONSE_PAYLOAD_TOO_LARGE,
            )
        try:
            json.loads(reply)
        except json.JSONDecodeError:
            # A page that answers plain text still answered: hand the model a JSON string.
            return json.dumps(reply)
        return reply

    async def discover(self, *, timeout_s: float = 8.0) -> set[str] | None:
        """The tool names the page implements, or None when it does not answer discovery."""
        try:
            reply = await self._ask_for_tools(timeout_s)
        except rtc.RpcError as err:
            logger.warning(
                "the page did not answer tool discovery (%s); offering every frontend tool",
                describe_rpc_error(err),
                extra={"participant": self.identity, "rpc_code": err.code},
            )
            return None
        try:
            names = json.loads(reply).get("tools")
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ValueError("'tools' is not a list of names")
        except (ValueError, AttributeError) as exc:
            logger.warning("malformed tool discovery reply (%s); offering every frontend tool", exc)
            return None
        return set(names)

    async def _ask_for_tools(self, timeout_s: float) -> str:
        """One discovery RPC, repeated while a page that has just joined still calls it unsupported."""
        delay = 0.1
        while True:
            try:
                return await self.local.perform_rpc(
                    destination_identity=self.identity,
                    method=DISCOVERY_METHOD,
                    payload="{}",
                    response_timeout=timeout_s,
                )
            except rtc.RpcError as err:
                settling = (
                    self.arrived_at is not None and time.monotonic() - self.arrived_at < ARRIVAL_SETTLE_S
                )
                if err.code != _Code.UNSUPPORTED_METHOD or not settling:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)


def reconcile(
    declared: Iterable[str], implemented: set[str] | None
) -> tuple[list[str], list[str], list[str]]:
    """Split the role's frontend tools into (offered, missing in the UI, extra in the UI)."""
    declared_list = list(declared)
    if implemented is None:
        return declared_list, [], []
    offered = [n for n in declared_list if n in implemented]
    missing = [n for n in declared_list if n not in implemented]
    extra = sorted(implemented - set(declared_list))
    return offered, missing, extra
