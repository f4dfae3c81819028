"""The built demo app over real HTTP: SPA fallback, caching, CSP, and traversal attempts sent raw."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.web.conftest import make_settings, open_client

pytestmark = pytest.mark.integration

Client = TestClient[Any, Any]
INDEX = "<!doctype html><title>RoleCall demo</title><script type=module src=/assets/app-1a2b.js></script>"
SECRET = "TOP-SECRET-OUTSIDE-DIST"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "site" / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "app-1a2b.js").write_text("console.log('demo')")
    (root / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (root / ".env").write_text(SECRET)
    (tmp_path / "site" / "secret.txt").write_text(SECRET)
    (tmp_path / "site" / "dist2").mkdir()
    (tmp_path / "site" / "dist2" / "x.txt").write_text(SECRET)
    os.symlink(tmp_path / "site" / "secret.txt", root / "leak.txt")
    os.symlink(tmp_path / "site", root / "assets" / "up")
    return root


@pytest.fixture
async def client(dist: Path) -> AsyncIterator[Client]:
    c = await open_client(make_settings(web_static_dir=dist, livekit_url="ws://localhost:7880"))
    yield c
    await c.close()


async def raw_get(client: Client, target: str) -> tuple[int, bytes]:
    """Send a request line exactly as written (no client-side normalisation or re-encoding)."""
    assert client.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    try:
        writer.write(
            f"GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode("latin-1")
        )
        await writer.drain()
        response = await reader.read()
    finally:
        writer.close()
    status = int(response.split(b" ", 2)[1])
    return status, response


async def test_index_assets_and_spa_fallback(client: Client) -> None:
    for path in ["/", "/index.html", "/cook/spaghetti-carbonara", "/some/deep/route"]:
        resp = await client.get(path)
        assert resp.status == 200, path
        assert await resp.text() == INDEX
        assert resp.headers["Cache-Control"] == "no-cache"
        assert resp.content_type == "text/html"
    resp = await client.get("/assets/app-1a2b.js")
    assert resp.status == 200 and await resp.text() == "console.log('demo')"
    assert resp.content_type in ("application/javascript", "text/javascript")
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert (await client.get("/favicon.svg")).headers["Cache-Control"] == "no-cache"


async def test_missing_files_with_an_extension_are_json_404s(client: Client) -> None:
    for path in ["/assets/gone.js", "/robots.txt"]:
        resp = await client.get(path)
        assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"


async def test_csp_allows_the_livekit_server_and_nothing_else(client: Client) -> None:
    csp = (await client.get("/")).headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["connect-src"] == "'self' ws://localhost:7880 http://localhost:7880"
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/../../../../etc/passwd",
        "/%2e%2e/secret.txt",
        "/%2e%2e%2fsecret.txt",
        "/assets/..%2f..%2fsecret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/..%5csecret.txt",
        "/%252e%252e/secret.txt",
        "/..;/secret.txt",
        "/.env",
        "/%2eenv",
        "/leak.txt",
        "/assets/up/secret.txt",
        "/../dist2/x.txt",
        "//etc/passwd",
        "/assets/up/dist/.env",
        "/%00",
    ],
)
async def test_traversal_attempts_never_escape(client: Client, target: str) -> None:
    status, response = await raw_get(client, target)
    assert SECRET.encode() not in response
    assert b"root:" not in response
    # Either refused outright, or answered with the app's own index (a harmless client-side route).
    assert status in (400, 404) or (status == 200 and INDEX.encode() in response), (target, status)


async def test_missing_build_shows_how_to_build() -> None:
    client = await open_client(make_settings())
    try:
        resp = await client.get("/")
        text = await resp.text()
        assert resp.status == 200 and "make demo" in text and "npm run build" in text
        assert (await client.get("/some/route")).status == 404
        assert (await client.get("/api/openapi.json")).status == 200
    finally:
        await client.close()
