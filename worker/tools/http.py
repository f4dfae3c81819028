"""`http` tools: POST the validated arguments to a URL fixed in the role file.

This is the control plane over plain HTTP: the app backend owns the business logic, serverless or
not. The URL never comes from model output. Each call carries an `Idempotency-Key`, the same for every
request of that call (derived from the session and the model's call id), so a backend can tell a retry
from a new call. Requests are signed over the method, path, key and body (see `worker.signing`), time
out, never follow redirects, and read the whole answer up to `max_response_bytes` (worker.bodies); the
model gets it as compact JSON text. A backend that takes seconds may stream progress lines before its
result (`application/x-ndjson`, `worker.tools.ndjson`). Anything else becomes an HttpToolError whose
text the model can speak about.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

from worker.bodies import BodyTooLarge, read_capped
from worker.roles.policy import RolePolicy, is_worker_header, reserved_env, reserved_env_message
from worker.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign_request
from worker.tools import ndjson, progress
from worker.tools.egress import EgressPolicy, refusal
from worker.tools.guard import Runner, ToolFailure

if TYPE_CHECKING:
    from livekit.agents import RunContext

    from worker.roles import HttpTool, Role
    from worker.session.context import SessionContext

logger = logging.getLogger("rolecall.http")


class HttpToolError(ToolFailure):
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
    env_policy: RolePolicy | None = None
    """The environment variables headers and `secret_env` may use (`ROLECALL_TOOL_ENV`); None: any
    but RoleCall's own. Checked again here although the role loader refused the others."""
    egress: EgressPolicy | None = None
    """Which literal non-public addresses may be called (names: the session's `GuardedResolver`)."""


def runner(spec: HttpTool, role: Role, ctx: SessionContext) -> Runner:
    """The runner of one http tool of `role`: its target fixed now, from the role and the settings."""
    settings = ctx.settings
    target = HttpTarget(
        tool_name=spec.name,
        url=settings.http_tool_url(spec.url),
        timeout_s=spec.timeout_s,
        max_response_bytes=spec.max_response_bytes,
        secret_env=spec.secret_env,
        headers=spec.headers,
        allowed_hosts=frozenset(spec.allowed_hosts) if spec.allowed_hosts is not None else None,
        deployment_hosts=settings.allowed_http_hosts(),
        env_policy=settings.role_policy(),
        egress=EgressPolicy.from_settings(settings),
    )
    caller = CallContext(
        room=ctx.room_name, session_id=ctx.session_id, participant=ctx.participant, role=role.name
    )

    async def run(args: dict[str, Any], context: RunContext[Any]) -> str:
        call_id = getattr(getattr(context, "function_call", None), "call_id", None)
        key = idempotency_key(ctx.session_id, call_id) if call_id else None
        return await post_json(
            ctx.http, target, args, caller, idempotency_key=key, on_progress=progress.report
        )

    return run


def idempotency_key(session_id: str, call_id: str) -> str:
    """The `Idempotency-Key` of one tool call: stable for the call, unique across sessions."""
    return "rc_" + hashlib.sha256(f"{session_id}\n{call_id}".encode()).hexdigest()[:32]


async def post_json(
    http: aiohttp.ClientSession,
    target: HttpTarget,
    arguments: dict[str, Any],
    ctx: CallContext,
    *,
    idempotency_key: str | None = None,
    on_progress: Callable[[str], Awaitable[None]] | None = None,
) -> str:
    """POST `arguments`; return the response's JSON text or raise HttpToolError.

    `idempotency_key`: the call's (a random one when the call has no id). Progress lines of an NDJSON
    answer go to `on_progress` (dropped without one)."""
    host = urlsplit(target.url).hostname or ""
    if target.allowed_hosts is not None and host not in target.allowed_hosts:
        raise HttpToolError(f"host {host!r} is not in the allowed hosts for {target.tool_name}")
    if target.deployment_hosts is not None and host.lower() not in target.deployment_hosts:
        logger.warning("http tool %s: host %r is not in ROLECALL_HTTP_ALLOWED_HOSTS", target.tool_name, host)
        raise HttpToolError(f"host {host!r} is not allowed on this worker")
    refused = target.egress.literal_problem(host) if target.egress is not None else None
    if refused:
        logger.warning("http tool %s: %s (see ROLECALL_HTTP_PRIVATE_HOSTS)", target.tool_name, refused)
        raise HttpToolError(refused)
    body = json.dumps(arguments, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "RoleCall-worker",
        "X-RoleCall-Tool": target.tool_name,
        "X-RoleCall-Room": ctx.room,
        "X-RoleCall-Session": ctx.session_id,
        "X-RoleCall-Participant": ctx.participant,
        "X-RoleCall-Role": ctx.role,
        IDEMPOTENCY_HEADER: idempotency_key or f"rc_{uuid.uuid4().hex}",
    }
    headers.update(_expand_env(target.headers, target.env_policy))
    if target.secret_env:
        _check_env(target.secret_env, target.env_policy, signing=True, use="the signing secret")
        secret = os.environ.get(target.secret_env)
        if not secret:
            raise HttpToolError(f"the signing secret {target.secret_env} is not set on the worker")
        headers[SIGNATURE_HEADER] = sign_request(
            secret,
            method="POST",
            path=URL(target.url).raw_path_qs,
            idempotency_key=headers[IDEMPOTENCY_HEADER],
            body=body,
        )
    timeout = aiohttp.ClientTimeout(total=target.timeout_s)
    try:
        async with http.post(
            target.url, data=body, headers=headers, timeout=timeout, allow_redirects=False
        ) as resp:
            if not 200 <= resp.status < 300:
                raise HttpToolError(f"the service answered HTTP {resp.status}")
            if resp.content_type == ndjson.CONTENT_TYPE:
                cap, listener = target.max_response_bytes, on_progress or _dropped
                raw = await ndjson.read_updates(resp.content, cap, listener)
            else:
                raw = await read_capped(resp.content, target.max_response_bytes, declared=resp.content_length)
    except ndjson.StreamProblem as exc:
        raise HttpToolError(str(exc)) from None
    except BodyTooLarge:
        raise HttpToolError(f"the response is larger than {target.max_response_bytes} bytes") from None
    except TimeoutError:  # the total timeout covers reading the answer too (a drip-fed body)
        raise HttpToolError(f"the service did not answer within {target.timeout_s:g} s") from None
    except aiohttp.ClientPayloadError:
        raise HttpToolError("the service's answer was cut off or badly encoded") from None
    except aiohttp.ClientError as exc:
        reason = refusal(exc) or f"the service could not be reached ({type(exc).__name__})"
        raise HttpToolError(reason) from None
    return _json_text(raw)


async def _dropped(_: str) -> None:
    """Progress lines nobody listens to."""


def _json_text(raw: bytes) -> str:
    """The answer as compact JSON text for the model, or HttpToolError saying why it is not JSON."""
    try:
        # json.loads(bytes) detects UTF-8, -16 and -32, with or without a byte order mark.
        parsed = json.loads(raw)
        text = json.dumps(parsed, ensure_ascii=False, separators=(",", ":"))
    except UnicodeDecodeError:
        raise HttpToolError(
            "the service answered with something that is not JSON (not UTF-8, UTF-16 or UTF-32 text)"
        ) from None
    except RecursionError:
        raise HttpToolError("the service answered with JSON nested too deeply") from None
    except ValueError:  # JSONDecodeError, and integers longer than Python converts
        raise HttpToolError("the service answered with something that is not JSON") from None
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate (JSON `\ud800`) is not UTF-8: keep it escaped
        text = json.dumps(parsed, separators=(",", ":"))
    return text


_ENV_REF = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


def _check_env(name: str, policy: RolePolicy | None, *, signing: bool, use: str) -> None:
    """HttpToolError unless a role may use environment variable `name` here (the loader checked too)."""
    if policy is not None:
        problem = policy.env_problem(name, signing=signing)
    else:
        problem = reserved_env_message(name, signing=signing) if reserved_env(name, signing=signing) else None
    if problem:
        logger.warning("http tool: %s %s refused: %s", use, name, problem)
        raise HttpToolError(f"{use} {name} may not be used on this worker")


def _expand_env(headers: Mapping[str, str], policy: RolePolicy | None = None) -> dict[str, str]:
    """Static headers; `${NAME}` in a value is replaced by the worker's environment variable NAME.

    Only names `policy` allows (without one: any but RoleCall's own), and never a header the worker sets.
    """
    out = {}
    for key, value in headers.items():
        if is_worker_header(key):
            raise HttpToolError(f"header {key} is set by the worker and cannot be configured")

        def lookup(match: re.Match[str], header: str = key) -> str:
            _check_env(match.group(1), policy, signing=False, use=f"header {header}: variable")
            found = os.environ.get(match.group(1))
            if found is None:
                raise HttpToolError(f"header {header} needs {match.group(1)}, which is not set on the worker")
            return found

        out[key] = _ENV_REF.sub(lookup, value)
    return out
