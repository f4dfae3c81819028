"""Every error the web backend answers is JSON: `{"error": {"code": ..., "message": ..., ...}}`.

ApiError              a client (4xx) or dependency (503) problem with a stable `code`; extra fields
                      (`field`, `roles`, `retry_after_s`) ride along in the error object, and
                      `headers` (`Retry-After`) in the response
aiohttp HTTPException 404 unknown route, 405 wrong method, 413 ...: turned into the same shape
anything else         500 `internal`, logged with its stack trace, never shown to the client
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

logger = logging.getLogger("rolecall.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# aiohttp's own errors (routing, body limits) get a stable code like ours.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
}


class ApiError(Exception):
    """An error answered as JSON with `status`; `extra` adds fields to the error object, `headers`
    headers to the response."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.extra = extra

    def response(self) -> web.Response:
        return error_response(self.status, self.code, self.message, self.headers, **self.extra)


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> web.Response:
    """The JSON error body with `status`."""
    return web.json_response(
        {"error": {"code": code, "message": message, **extra}}, status=status, headers=headers
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into the JSON error shape; unexpected ones into a bare 500."""
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        allow = exc.headers.get("Allow")
        where = f"{request.method} {request.path[:200]}"
        if exc.status == 404:
            message = f"no route for {where}"
        elif exc.status == 405 and allow:
            message = f"{where} is not allowed; allowed: {allow}"
        else:
            message = exc.reason
        headers = {"Allow": allow} if allow is not None else None
        return error_response(exc.status, _HTTP_CODES.get(exc.status, "http_error"), message, headers)
    except Exception:
        # Log the details for the operator; the client learns nothing about the internals.
        logger.exception("unhandled error in %s %s", request.method, request.path)
        return error_response(500, "internal", "internal error; the server log has the details")
