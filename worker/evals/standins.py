"""What an eval puts where the user's page and the app backend would be.

- `StandInPage` answers the frontend tools' RPCs from the eval file's `ui:` (default `{"ok": true}`),
  behind the worker's real `FrontendBridge` (payload limits, JSON handling).
- `MockBackend` is a local HTTP server answering the http tools from `mocks:`. The eval's HTTP client
  sends every request there instead of the role's URL (a client middleware), so the worker's real
  `post_json` still runs: host allowlist, signing, timeout, size cap and JSON checks. It verifies the
  signature when the tool has a secret.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from yarl import URL

from worker.roles import FrontendTool, HttpTool, Role
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
