"""`http` tools: POST the validated arguments to a URL fixed in the role file.

This is the control plane over plain HTTP: the app backend owns the business logic, serverless or
not. The URL never comes from model output. Requests are signed (see `worker.signing`), time out,
never follow redirects, and read at most `max_response_bytes`; anything else becomes an HttpToolError
whose text the model can speak about.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from worker.signing import SIGNATURE_HEADER, sign

logger = logging.getLogger("rolecall.http")


class HttpToolError(Exception):
    """An http tool call failed; the text is a short reason, safe to show the model."""


@dataclass(frozen=True)
class CallContext:
    """Who is calling, sent as headers so the backend can tie the call to its session."""

    room: str
    session_id: str
    participant: str
    role: str


@dataclass(frozen=True)
class HttpTarget:
    """Where and how one http tool posts."""

    tool_name: str
    url: str
    timeout_s: float = 10.0
    max_response_bytes: int = 65_536
    secret_env: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    allowed_hosts: frozenset[str] | None = None
    """The tool's own `allowed_hosts`, from the role file."""
    deployment_hosts: frozenset[str] | None = None
    """`ROLECALL_HTTP_ALLOWED_HOSTS`: the operator's limit for every tool."""


async def post_json(
    http: aiohttp.ClientSession, target: HttpTarget, arguments: dict[str, Any], ctx: CallContext
) -> str:
    """POST `arguments`; return the response's JSON text or raise HttpToolError."""
    host = urlsplit(target.url).hostname or ""
    if target.allowed_hosts is not None and host not in target.allowed_hosts:
        raise HttpToolError(f"host {host!r} is not in the allowed hosts for {target.tool_name}")
    if target.deployment_hosts is not None and host.lower() not in target.deployment_hosts:
        logger.warning("http tool %s: host %r is not in ROLECALL_HTTP_ALLOWED_HOSTS", target.tool_name, host)
        raise HttpToolError(f"host {host!r} is not allowed on this worker")
    body = json.dumps(arguments, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "RoleCall-worker",
        "X-RoleCall-Tool": target.tool_name,
        "X-RoleCall-Room": ctx.room,
        "X-RoleCall-Session": ctx.session_id,
        "X-RoleCall-Participant": ctx.participant,
        "X-RoleCall-Role": ctx.role,
    }
    headers.update(_expand_env(target.headers))
    if target.secret_env:
        secret = os.environ.get(target.secret_env)
        if not secret:
            raise HttpToolError(f"the signing secret {target.secret_env} is not set on the worker")
        headers[SIGNATURE_HEADER] = sign(secret, body)
    timeout = aiohttp.ClientTimeout(total=target.timeout_s)
    try:
        async with http.post(
            target.url, data=body, headers=headers, timeout=timeout, allow_redirects=False
        ) as resp:
            raw = await resp.content.read(target.max_response_bytes + 1)
            if len(raw) > target.max_response_bytes:
                raise HttpToolError(f"the response is larger than {target.max_response_bytes} bytes")
            if not 200 <= resp.status < 300:
                raise HttpToolError(f"the service answered HTTP {resp.status}")
    except TimeoutError:
        raise HttpToolError(f"the service did not answer within {target.timeout_s:g} s") from None
    except aiohttp.ClientError as exc:
        raise HttpToolError(f"the service could not be reached ({type(exc).__name__})") from None
    try:
        json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise HttpToolError("the service answered with something that is not JSON") from None
    return raw.decode()


_ENV_REF = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


def _expand_env(headers: Mapping[str, str]) -> dict[str, str]:
    """Static headers; `${NAME}` in a value is replaced by the worker's environment variable NAME."""
    out = {}
    for key, value in headers.items():

        def lookup(match: re.Match[str], header: str = key) -> str:
            found = os.environ.get(match.group(1))
            if found is None:
                raise HttpToolError(f"header {header} needs {match.group(1)}, which is not set on the worker")
            return found

        out[key] = _ENV_REF.sub(lookup, value)
    return out
