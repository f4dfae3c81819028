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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from livekit import rtc

from worker.protocol import DISCOVERY_METHOD, RPC_PAYLOAD_LIMIT, DiscoveryReply
from worker.roles import FrontendTool, Role
from worker.tools.guard import Runner, ToolFailure

if TYPE_CHECKING:
    from livekit.agents import RunContext

    from worker.session.context import SessionContext

logger = logging.getLogger("rolecall.frontend")


ARRIVAL_SETTLE_S = 2.0
"""How long after a page joins the agent keeps asking for its tools while it answers "unsupported".
Only the JavaScript SDK registers RPC methods before connecting; pages built on the Python, Swift or
Android SDKs register them just after, and a discovery sent in between is refused."""


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


class FrontendCallError(ToolFailure):
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
    implemented: set[str] | None = None
    """The RPC methods the page said it implements; None while it has not answered discovery (then
    every frontend tool is offered, and a call to a missing one fails with a speakable reason)."""

    def offers(self, spec: FrontendTool) -> bool:
        """Whether the model is offered `spec`: the page implements its method (or did not say)."""
        return self.implemented is None or spec.method in self.implemented

    async def discover_for(self, role: Role, log_extra: Any = None) -> None:
        """Ask the page which tools it implements, and log how that differs from what `role` declares."""
        self.implemented = await self.discover()
        if self.implemented is None:
            return
        declared = [t.method for t in role.tools if isinstance(t, FrontendTool)]
        missing = [m for m in declared if m not in self.implemented]
        undeclared = sorted(self.implemented - set(declared))
        if missing:
            logger.warning(
                "the page does not implement %s; not offering them to the model", missing, extra=log_extra
            )
        if undeclared:
            logger.info(
                "the page implements %s, which role %s does not declare",
                undeclared,
                role.name,
                extra=log_extra,
            )

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
            return set(DiscoveryReply.model_validate_json(reply).tools)
        except ValueError as exc:  # pydantic's ValidationError is one
            logger.warning(
                "malformed tool discovery reply (%s); offering every frontend tool", str(exc).splitlines()[0]
            )
            return None

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


def runner(spec: FrontendTool, role: Role, ctx: SessionContext) -> Runner:
    """The runner of one frontend tool: an RPC to the session's user (FrontendCallError on failure)."""

    async def run(args: dict[str, Any], _: RunContext[Any]) -> str:
        return await ctx.bridge.call(spec.method, args, timeout_s=spec.timeout_s)

    return run
