"""What the web backend tells operators: requests by route and status (`worker.metrics`), and its own
metrics listener, apart from the public port (`ROLECALL_WEB_METRICS_PORT`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from worker.metrics import WEB_REQUESTS, WEB_SECONDS, exposition

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def route_of(request: web.Request) -> str:
    """The route's template (`/api/recipes/{id}`), never the path itself (bounded label values)."""
    info = request.match_info
    route = getattr(info, "route", None)
    resource = getattr(route, "resource", None)
    canonical = getattr(resource, "canonical", None)
    return canonical if isinstance(canonical, str) and canonical else "unmatched"


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count each request by route and status, and time it (outside the error middleware: final status)."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route = route_of(request)
        WEB_REQUESTS.labels(route=route, status=str(status)).inc()
        WEB_SECONDS.labels(route=route).observe(time.perf_counter() - started)


async def metrics_handler(_: web.Request) -> web.Response:
    body, content_type = await asyncio.to_thread(exposition)
    return web.Response(body=body, headers={"Content-Type": content_type})


async def serve_metrics(host: str, port: int) -> web.AppRunner:
    """Serve `/metrics` on `host:port` (its own listener); the runner, to clean up."""
    app = web.Application()
    app.router.add_get("/metrics", metrics_handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
