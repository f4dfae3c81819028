"""A small app backend for tests: http tools (RoleCall's signature checked, misbehaving on request) and the
session webhook (Standard Webhooks checked with the `standardwebhooks` package, as a receiver would)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from worker.signing import SIGNATURE_HEADER, SignatureError, verify


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any
    signature_ok: bool
    signature_error: str = ""
    envelope: Any = None
    """For the webhook: the whole event (`body` is its `data`, the report)."""
    raw: bytes = b""
    """For the webhook: the body as received."""


@dataclass
class AppServer:
    secret: str
    received: list[Received] = field(default_factory=list)
    port: int = 0
    released: bool = False
    """Whether `/gated` and `/gated_fail` answer now (a slow backend the test lets go of)."""
    hook_script: list[str] = field(default_factory=list)
    """How to answer the next webhook requests, one entry each: `500`, `410`, `hang` (answer after
    `hang_s`, too late), `ok`; when empty, `ok`."""
    hook_attempts: list[Received] = field(default_factory=list)
    """Every webhook request, however it was answered (`received` holds the accepted ones)."""
    hang_s: float = 5.0
    _runner: web.AppRunner | None = None

    async def start(self, port: int = 0) -> None:
        """Listen on loopback (`port`: 0 picks one; a stopped server restarts on its old one)."""
        app = web.Application()
        app.router.add_post("/lookup", self.lookup)
        app.router.add_post(
            "/fail", lambda r: self._record(r, web.json_response({"error": "boom"}, status=500))
        )
        app.router.add_post("/redirect", lambda r: self._record(r, web.HTTPFound("/lookup")))
        app.router.add_post("/big", lambda r: self._record(r, web.json_response({"blob": "x" * 50_000})))
        app.router.add_post("/notjson", lambda r: self._record(r, web.Response(text="<html>oops</html>")))
        app.router.add_post("/slow", self.slow)
        app.router.add_post("/gated", self.gated)
        app.router.add_post("/gated_fail", self.gated)
        app.router.add_post("/progress", self.progress)
        app.router.add_post("/hook", self.hook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    def _fixed(self, make: Any) -> Any:
        async def handler(request: web.Request) -> web.StreamResponse:
            return await self._record(request, make())

        return handler

    async def _record(self, request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
        body = await request.read()
        try:
            verify(self.secret, body, request.headers.get(SIGNATURE_HEADER))
            ok, err = True, ""
        except SignatureError as exc:
            ok, err = False, str(exc)
        self.received.append(
            Received(request.path, dict(request.headers), json.loads(body or b"null"), ok, err)
        )
        if isinstance(response, web.HTTPException):
            raise response
        return response

    async def lookup(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            verify(self.secret, body, request.headers.get(SIGNATURE_HEADER))
        except SignatureError as exc:
            self.received.append(
                Received(request.path, dict(request.headers), json.loads(body), False, str(exc))
            )
            return web.json_response({"error": str(exc)}, status=401)
        args = json.loads(body)
        self.received.append(Received(request.path, dict(request.headers), args, True))
        return web.json_response({"found": True, "query": args.get("query"), "recipes": ["pasta al limone"]})

    async def hook(self, request: web.Request) -> web.StreamResponse:
        """The session webhook: a Standard Webhooks receiver with a raw secret (`Webhook(bytes)`)."""
        body = await request.read()
        try:
            envelope = Webhook(self.secret.encode()).verify(body, dict(request.headers))
            ok, err = True, ""
        except WebhookVerificationError as exc:
            envelope, ok, err = json.loads(body or b"null"), False, str(exc)
        data = envelope.get("data") if isinstance(envelope, dict) else None
        seen = Received(request.path, dict(request.headers), data, ok, err, envelope, body)
        self.hook_attempts.append(seen)
        how = self.hook_script.pop(0) if self.hook_script else "ok"
        if how == "hang":
            await asyncio.sleep(self.hang_s)
            return web.json_response({"late": True})
        if how != "ok":
            return web.json_response({"error": how}, status=int(how))
        if not ok:
            return web.json_response({"error": err}, status=401)
        self.received.append(seen)
        return web.json_response({"ok": True})

    async def slow(self, request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(5)
        return await self._record(request, web.json_response({"late": True}))

    async def gated(self, request: web.Request) -> web.StreamResponse:
        """Answers once the test sets `released` (20 s at most): a backend that takes its time."""
        for _ in range(400):
            if self.released:
                break
            await asyncio.sleep(0.05)
        if request.path == "/gated_fail":
            return await self._record(request, web.json_response({"error": "broken"}, status=500))
        body = json.loads(await request.read() or b"{}")
        return await self._record(request, web.json_response({"late": True, "query": body.get("query")}))

    async def progress(self, request: web.Request) -> web.StreamResponse:
        """Streams two progress lines, then the result (application/x-ndjson)."""
        await self._record(request, web.Response())
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        for line in ({"progress": "Found twelve recipes."}, {"progress": "Picking the best three."}):
            await response.write(json.dumps(line).encode() + b"\n")
            await asyncio.sleep(0.3)
        await response.write(json.dumps({"recipes": ["carbonara", "cacio e pepe", "amatriciana"]}).encode())
        await response.write_eof()
        return response
