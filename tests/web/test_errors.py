"""The JSON error middleware (pure: mocked requests, handlers called directly)."""

from __future__ import annotations

import json
import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from worker.web.errors import ApiError, error_middleware

pytestmark = pytest.mark.unit


async def run(handler: object, method: str = "GET", path: str = "/api/x") -> web.Response:
    response = await error_middleware(make_mocked_request(method, path), handler)  # type: ignore[arg-type]
    assert isinstance(response, web.Response)
    return response


def body(response: web.Response) -> dict[str, object]:
    assert response.content_type == "application/json"
    assert isinstance(response.body, bytes)
    return json.loads(response.body)  # type: ignore[no-any-return]


async def test_api_error_becomes_its_json_shape() -> None:
    async def handler(_: web.Request) -> web.Response:
        raise ApiError(404, "unknown_role", "unknown role 'x'", roles=["a", "b"])

    response = await run(handler)
    assert response.status == 404
    assert body(response) == {
        "error": {"code": "unknown_role", "message": "unknown role 'x'", "roles": ["a", "b"]}
    }


async def test_success_passes_through() -> None:
    async def handler(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    response = await run(handler)
    assert response.status == 200 and body(response) == {"ok": True}


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (web.HTTPNotFound(), 404, "not_found"),
        (web.HTTPMethodNotAllowed("GET", ["POST"]), 405, "method_not_allowed"),
        (web.HTTPRequestEntityTooLarge(max_size=10, actual_size=20), 413, "body_too_large"),
        (web.HTTPBadRequest(), 400, "bad_request"),
        (web.HTTPTooManyRequests(), 429, "http_error"),
    ],
)
async def test_aiohttp_errors_become_json(exc: web.HTTPException, status: int, code: str) -> None:
    async def handler(_: web.Request) -> web.Response:
        raise exc

    response = await run(handler)
    assert response.status == status
    assert body(response)["error"]["code"] == code  # type: ignore[index]
    if status == 405:
        assert response.headers["Allow"] == "POST"


async def test_redirects_are_not_errors() -> None:
    async def handler(_: web.Request) -> web.Response:
        raise web.HTTPFound("/elsewhere")

    with pytest.raises(web.HTTPFound):
        await run(handler)


async def test_unexpected_exception_is_a_bare_500_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    secret = "sk-live-this-must-not-leak"

    async def handler(_: web.Request) -> web.Response:
        raise RuntimeError(f"database password {secret} rejected")

    with caplog.at_level(logging.ERROR, logger="rolecall.web"):
        response = await run(handler, "POST", "/api/session")
    assert response.status == 500
    assert body(response) == {
        "error": {"code": "internal", "message": "internal error; the server log has the details"}
    }
    assert (
        secret not in response.text
        and "Traceback" not in response.text
        and "RuntimeError" not in response.text
    )
    record = next(r for r in caplog.records if r.name == "rolecall.web")
    assert "POST /api/session" in record.getMessage() and record.exc_info is not None
