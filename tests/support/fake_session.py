"""A real `SessionContext` without a room, for unit tests of tools and the session core.

Everything in it is the real thing (record, lifecycle, page bridge, tool counters) except the user's
page, which is `FakePage`: it answers RPCs from a dict of handlers, as a page's tool handlers would.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from livekit import rtc

from worker.protocol import DISCOVERY_METHOD
from worker.report import SessionRecord
from worker.roles import RoleRegistry
from worker.session.context import SessionContext
from worker.session.lifecycle import Clock, Lifecycle
from worker.session.page import Page
from worker.settings import Settings
from worker.tools import SessionTools
from worker.tools.frontend import FrontendBridge

ROOT = Path(__file__).resolve().parents[2]
USER = "user-test"


class FakePage:
    """The user's page: RPC handlers by method; `calls` records (method, arguments)."""

    def __init__(self, handlers: Mapping[str, Callable[[Any], Any]] | None = None, *, discovery: bool = True):
        self.handlers = dict(handlers or {})
        self.discovery = discovery
        self.calls: list[tuple[str, Any]] = []

    async def perform_rpc(
        self, *, destination_identity: str, method: str, payload: str, response_timeout: float | None = None
    ) -> str:
        arguments = json.loads(payload)
        self.calls.append((method, arguments))
        if method == DISCOVERY_METHOD and self.discovery:
            return json.dumps({"tools": sorted(self.handlers)})
        handler = self.handlers.get(method)
        if handler is None:
            raise rtc.RpcError(rtc.RpcError.ErrorCode.UNSUPPORTED_METHOD, "unsupported method")
        result = handler(arguments)
        return result if isinstance(result, str) else json.dumps(result)


@asynccontextmanager
async def fake_context(
    *,
    role: str = "test",
    settings: Settings | None = None,
    registry: RoleRegistry | None = None,
    page: FakePage | None = None,
    variables: Mapping[str, Any] | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[SessionContext]:
    """A session context for `role` (a name for the record), closed (http, lifecycle) on exit."""
    settings = settings or Settings(roles_dir=ROOT / "roles")
    lifecycle = Lifecycle(clock=clock) if clock is not None else Lifecycle()
    async with aiohttp.ClientSession() as http:
        ctx = SessionContext(
            settings=settings,
            registry=registry or RoleRegistry(settings.roles_dir, policy=settings.role_policy()),
            participant=USER,
            session_id="test:1",
            variables=dict(variables or {}),
            http=http,
            record=SessionRecord(
                session_id="test:1", room="", participant=USER, role=role, model="gpt-realtime"
            ),
            lifecycle=lifecycle,
            page=Page(None, USER),
            bridge=FrontendBridge(page or FakePage(), USER),
            tools=SessionTools(),
        )
        try:
            yield ctx
        finally:
            await lifecycle.close()
