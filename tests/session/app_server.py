"""A small app backend for http-tool tests: verifies RoleCall's signature and misbehaves on request."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from worker.signing import SIGNATURE_HEADER, SignatureError, verify


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any
    signature_ok: bool
    signature_error: str = ""


@dataclass
class AppServer:
    secret: str
    received: list[Received] = field(default_factory=list)
    port: int = 0
    released: bool = False
    """Whether `/gated` and `/gated_fail` answer now (a slow backend the test lets go of)."""
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
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
        app.router.add_post("/hook", self.lookup)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
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
