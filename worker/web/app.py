"""The aiohttp application: routes, request bodies, security headers.

GET  /api/roles                 role picker entries
POST /api/session               {role, vars?, identity?} -> {url, token, room, identity, role, expires_at}
                                (auth per ROLECALL_WEB_AUTH, see worker.web.auth; admission: 429)
POST /api/session/redispatch    Authorization: Bearer <token> -> {room, dispatched}
POST /api/recipes/search        signed by the worker (find_recipes tool)
GET  /api/recipes/{id}          a full recipe card (show_recipe)
GET  /api/health                ready or 503 with the reason
GET  /api/openapi.json          the OpenAPI 3.1 description
GET  /api/sessions[/{room}]     the control API (worker.control.routes): running sessions, and
POST /api/sessions/{room}/...   say, context, respond, handoff, end (API key)
POST /api/demo/events           the demo's live event receiver (worker.web.demo_events)
GET  /*                         the built demo app (single-page-app fallback)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from livekit import api

from worker import signing
from worker.bodies import BodyTooLarge, read_capped
from worker.control.routes import CONTROL, add_routes
from worker.control.service import Control
from worker.roles import RoleRegistry
from worker.settings import Settings, SettingsError
from worker.tracing import tracer
from worker.web import config, demo_events
from worker.web.auth import Authenticator
from worker.web.errors import ApiError, error_middleware
from worker.web.health import HealthCheck
from worker.web.models import (
    RecipeSearchRequest,
    RecipeSearchResponse,
    RedispatchResponse,
    RoleInfo,
    RolesResponse,
    SessionRequest,
    parse_body,
)
from worker.web.observe import metrics_middleware
from worker.web.openapi import spec
from worker.web.recipes import RecipeBook
from worker.web.sessions import Sessions
from worker.web.static import StaticApp

logger = logging.getLogger("rolecall.web")

MAX_BODY_BYTES = 16 * 1024
"""Largest request body accepted; every API body is a few hundred bytes."""
BODY_TIMEOUT_S = 10.0
"""Longest a request body may take to arrive once its headers are in (a slow client gets 408)."""
LIVEKIT_API_TIMEOUT_S = 5.0

SETTINGS = web.AppKey("settings", Settings)
REGISTRY = web.AppKey("registry", RoleRegistry)
RECIPES = web.AppKey("recipes", RecipeBook)
SESSIONS = web.AppKey("sessions", Sessions)
AUTH = web.AppKey("auth", Authenticator)
HEALTH = web.AppKey("health", HealthCheck)
CSP = web.AppKey("csp", str)

API_CSP = "default-src 'none'; frame-ancestors 'none'"


def create_app(
    settings: Settings, *, registry: RoleRegistry | None = None, recipes: RecipeBook | None = None
) -> web.Application:
    """The web backend for `settings` (LiveKit clients are opened on start-up, closed on clean-up).
    SettingsError when the web settings cannot work (`worker.web.config`)."""
    problems = config.problems(settings)
    if problems:
        raise SettingsError(problems)
    app = web.Application(middlewares=[metrics_middleware, error_middleware], client_max_size=MAX_BODY_BYTES)
    app[SETTINGS] = settings
    app[AUTH] = Authenticator(settings)
    if registry is None:
        registry = RoleRegistry(settings.roles_dir, policy=settings.role_policy())
    app[REGISTRY] = registry
    app[RECIPES] = recipes if recipes is not None else RecipeBook.load()
    app[CSP] = app_csp(settings.public_livekit_url or settings.livekit_url)
    app.cleanup_ctx.append(_livekit)
    app.on_response_prepare.append(_security_headers)

    static = StaticApp(Path(settings.web_static_dir))
    app.router.add_get("/api/roles", list_roles)
    app.router.add_post("/api/session", create_session)
    app.router.add_post("/api/session/redispatch", redispatch)
    app.router.add_post("/api/recipes/search", search_recipes)
    app.router.add_get("/api/recipes/{id}", get_recipe)
    app.router.add_get("/api/health", health)
    app.router.add_get("/api/openapi.json", openapi)
    add_routes(app)
    demo_events.add_routes(app)
    # Everything outside /api is the demo app; unknown /api paths stay JSON 404s.
    app.router.add_get(r"/{tail:(?!api(?:/|$)).*}", static.handle)
    return app


async def _livekit(app: web.Application) -> AsyncIterator[None]:
    # The client session must be created inside the running loop, hence here and not in create_app.
    settings = app[SETTINGS]
    lk = api.LiveKitAPI(
        settings.livekit_url,
        settings.livekit_api_key,
        settings.livekit_api_secret,
        timeout=aiohttp.ClientTimeout(total=LIVEKIT_API_TIMEOUT_S),
    )
    app[SESSIONS] = Sessions(settings, app[REGISTRY], lk)
    app[CONTROL] = Control(settings, app[REGISTRY], lk, app[SESSIONS])
    app[HEALTH] = HealthCheck(app[REGISTRY], lk)
    yield
    await lk.aclose()


# ------------------------------------------------------------------------------------------ headers


def app_csp(livekit_url: str) -> str:
    """The page's Content-Security-Policy: own origin, plus the LiveKit server (WebSocket and HTTP)."""
    parts = urlsplit(livekit_url)
    livekit = ""
    if parts.hostname:
        host = parts.netloc.rsplit("@", 1)[-1]
        secure = parts.scheme in ("wss", "https")
        livekit = f" {'wss' if secure else 'ws'}://{host} {'https' if secure else 'http'}://{host}"
    return (
        "default-src 'self'; "
        f"connect-src 'self'{livekit}; "
        "script-src 'self'; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; "
        "media-src 'self' blob: mediastream:; "
        "worker-src 'self' blob:; "
        "font-src 'self'; "
        "object-src 'none'; "
        "base-uri 'none'; "
        "form-action 'self'; "
        "frame-ancestors 'none'"
    )


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers["Server"] = "RoleCall"  # instead of aiohttp's, which names the Python and aiohttp versions
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    is_api = request.path == "/api" or request.path.startswith("/api/")
    headers["Content-Security-Policy"] = API_CSP if is_api else request.app[CSP]
    if is_api:
        headers.setdefault("Cache-Control", "no-store")


# ------------------------------------------------------------------------------------------ bodies


async def read_body(request: web.Request, *, json_only: bool = True) -> bytes:
    """The whole body, however it arrives (in pieces, chunked, gzip).

    Refused: over MAX_BODY_BYTES (413), slower than BODY_TIMEOUT_S (408), broken (400) and, with
    `json_only`, other media types than JSON (415).
    """
    if json_only and request.content_type != "application/json":
        # Also the CSRF guard: a cross-site form cannot send this type without a CORS pre-flight.
        raise ApiError(415, "unsupported_media_type", "send the body as Content-Type: application/json")
    try:
        async with asyncio.timeout(BODY_TIMEOUT_S):
            return await read_capped(request.content, MAX_BODY_BYTES, declared=request.content_length)
    except BodyTooLarge:
        raise ApiError(413, "body_too_large", f"the body is over {MAX_BODY_BYTES} bytes") from None
    except TimeoutError:
        raise ApiError(408, "body_timeout", f"the body did not arrive within {BODY_TIMEOUT_S:g} s") from None
    except (web.RequestPayloadError, ConnectionResetError):
        # A broken chunked or gzip body, or the client hung up: answer, without a stack trace in the log.
        raise ApiError(400, "bad_body", "the body is incomplete or badly encoded") from None


# ------------------------------------------------------------------------------------------ handlers


async def list_roles(request: web.Request) -> web.Response:
    summaries = await asyncio.to_thread(request.app[REGISTRY].summaries)
    body = RolesResponse(
        roles=[RoleInfo(name=s.name, title=s.title, description=s.description) for s in summaries]
    )
    return _json(body.model_dump())


async def create_session(request: web.Request) -> web.Response:
    caller = await request.app[AUTH].caller(request)  # before the body: strangers get a 401 and no more
    body = parse_body(await read_body(request), SessionRequest)
    # The span's context travels in the dispatch metadata: the worker's job continues this trace.
    with tracer.start_as_current_span("rolecall.session.start", attributes={"rolecall.role": body.role}):
        session = await request.app[SESSIONS].create(body, caller)
    return _json(session.model_dump())


async def redispatch(request: web.Request) -> web.Response:
    with tracer.start_as_current_span("rolecall.session.redispatch"):
        room = await request.app[SESSIONS].redispatch(request.headers.get("Authorization"))
    return _json(RedispatchResponse(room=room, dispatched=True).model_dump())


async def search_recipes(request: web.Request) -> web.Response:
    secret = request.app[SETTINGS].tool_secret
    if not secret:
        raise ApiError(503, "not_configured", "recipe search is off: ROLECALL_TOOL_SECRET is not set")
    raw = await read_body(request)
    try:  # v2: the signature covers this method, path and Idempotency-Key, not only the body
        signing.verify_request(
            secret,
            request.headers.get(signing.SIGNATURE_HEADER),
            method=request.method,
            path=request.raw_path,
            idempotency_key=request.headers.get(signing.IDEMPOTENCY_HEADER),
            body=raw,
        )
    except signing.SignatureError as exc:
        raise ApiError(401, "bad_signature", str(exc)) from None
    query = parse_body(raw, RecipeSearchRequest)
    hits = request.app[RECIPES].search(query)
    return _json(RecipeSearchResponse(recipes=hits).model_dump())


async def get_recipe(request: web.Request) -> web.Response:
    recipe = request.app[RECIPES].get(request.match_info["id"])
    if recipe is None:
        raise ApiError(404, "not_found", "no recipe with that id")
    return _json(recipe.model_dump())


async def health(request: web.Request) -> web.Response:
    reason = await request.app[HEALTH].check()
    if reason is not None:
        raise ApiError(503, "unhealthy", reason)
    return _json({"status": "ok"})


async def openapi(request: web.Request) -> web.Response:
    return _json(spec())


def _json(data: object) -> web.Response:
    return web.json_response(data)
