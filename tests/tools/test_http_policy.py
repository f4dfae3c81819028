"""At call time too, an http tool reads only the environment variables a role may reference, and never
sets the worker's own headers (defence in depth: the role loader refuses the same, see
tests/roles/test_role_policy.py). Every refusal happens before anything is sent, so no server is needed.
"""

from __future__ import annotations

import aiohttp
import pytest

from worker.roles import RolePolicy
from worker.tools.http import CallContext, HttpTarget, HttpToolError, _expand_env, post_json

pytestmark = pytest.mark.unit

CTX = CallContext(room="r1", session_id="r1:job", participant="u1", role="cook")
URL = "http://127.0.0.1:9/never-called"  # every refusal comes before a connection is tried


async def refused(target: HttpTarget) -> str:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(HttpToolError) as info:
            await post_json(http, target, {}, CTX)
    return str(info.value)


@pytest.mark.parametrize("name", ["LIVEKIT_API_SECRET", "OPENAI_API_KEY", "ROLECALL_WEBHOOK_SECRET"])
async def test_rolecalls_own_settings_are_never_sent(
    name: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(name, "the-real-secret")
    target = HttpTarget("t", URL, headers={"X-Trace": f"${{{name}}}"})  # no policy: reserved names still
    assert await refused(target) == f"header X-Trace: variable {name} may not be used on this worker"
    assert "the-real-secret" not in caplog.text


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "ROLECALL_WEBHOOK_SECRET"])
async def test_rolecalls_own_secrets_never_sign(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(name, "the-real-secret")
    target = HttpTarget("t", URL, secret_env=name, env_policy=RolePolicy())
    assert await refused(target) == f"the signing secret {name} may not be used on this worker"


async def test_names_outside_the_operators_allowlist_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws")
    target = HttpTarget("t", URL, headers={"X-Key": "${AWS_SECRET_ACCESS_KEY}"}, env_policy=RolePolicy())
    assert (
        await refused(target) == "header X-Key: variable AWS_SECRET_ACCESS_KEY may not be used on this worker"
    )


def test_allowed_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOL_KEY", "k")
    assert _expand_env({"X-Key": "Key ${TOOL_KEY}"}, RolePolicy()) == {"X-Key": "Key k"}
    with pytest.raises(HttpToolError, match="variable TOOL_KEY may not be used"):
        _expand_env({"X-Key": "${TOOL_KEY}"}, RolePolicy(env_allow=("APP_*",)))


@pytest.mark.parametrize("header", ["X-RoleCall-Participant", "x-rolecall-room", "User-Agent"])
async def test_the_workers_headers_are_never_overwritten(header: str) -> None:
    target = HttpTarget("t", URL, headers={header: "admin"})
    assert await refused(target) == f"header {header} is set by the worker and cannot be configured"
