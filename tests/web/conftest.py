"""Fixtures for the web backend: settings for the real LiveKit server, and an in-process HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.support.livekit_server import LiveKitServer, free_port
from worker.settings import Settings
from worker.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign_request
from worker.web import create_app

ROOT = Path(__file__).resolve().parents[2]
ROLES = ROOT / "roles"
TOOL_SECRET = "web-test-tool-secret-0123456789abcdef"


def tool_signature(
    secret: str,
    body: bytes,
    *,
    path: str = "/api/recipes/search",
    key: str = "rc_test-call",
    timestamp: int | None = None,
) -> dict[str, str]:
    """The headers a worker's http tool signs a recipe search with (signature v2 and its key)."""
    signature = sign_request(
        secret, method="POST", path=path, idempotency_key=key, body=body, timestamp=timestamp
    )
    return {SIGNATURE_HEADER: signature, IDEMPOTENCY_HEADER: key}


def make_settings(server: LiveKitServer | None = None, **overrides: Any) -> Settings:
    """Settings for `server` (or an unreachable LiveKit URL), the repository's roles, no built app."""
    values: dict[str, Any] = {
        "livekit_url": server.url if server else f"ws://127.0.0.1:{free_port()}",
        "livekit_api_key": server.api_key if server else "test-key",
        "livekit_api_secret": server.api_secret if server else "test-secret-0123456789abcdef0123456789",
        "roles_dir": ROLES,
        "tool_secret": TOOL_SECRET,
        "web_static_dir": ROOT / "tests" / "web" / "no-such-dist",
        # Tests share one LiveKit server and start many sessions from 127.0.0.1: limits far above what
        # they reach (tests/web/test_admission_http.py sets tight ones).
        "web_sessions_per_minute": 10_000,
        "web_session_burst": 10_000,
        "web_max_sessions": 10_000,
    }
    values.update(overrides)
    return Settings(**values)


async def open_client(settings: Settings) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    return client


@pytest.fixture
def settings(livekit_server: LiveKitServer) -> Settings:
    return make_settings(livekit_server)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[TestClient[Any, Any]]:
    c = await open_client(settings)
    yield c
    await c.close()


def assert_matches_openapi(path: str, method: str, status: int, body: object) -> None:
    """Validate a real response body against the schema the OpenAPI document declares for it."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    from worker.web.openapi import spec

    document = spec()
    response = document["paths"][path][method.lower()]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    registry: Registry[Any] = Registry().with_resource(
        "urn:rolecall-openapi", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    ref = "urn:rolecall-openapi" + schema["$ref"] if "$ref" in schema else None
    validator = Draft202012Validator({"$ref": ref} if ref else schema, registry=registry)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    assert not errors, f"{method} {path} {status} does not match its OpenAPI schema: {errors}"
