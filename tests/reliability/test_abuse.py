"""Abuse on the real processes: generated requests against the web API (schemathesis), hostile role
names over HTTP, random client events against the simulator, and a scan of every log and response
body of this module's stack for the secrets it was given.

The session tokens' grants and TTL are decoded in tests/web/test_sessions.py; http tools refusing
redirects, oversized answers and hosts outside the allowlist are in tests/session/test_http_tools.py
and tests/tools/test_http.py; capped bodies in tests/web/test_sessions.py (413) and tests/simulator.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import jwt
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from websockets.asyncio.client import connect

from tests.reliability.conftest import SECRETS, WEB_API_KEY, WEB_API_KEY_OLD, WEB_JWT_SECRET, RelStack
from tests.reliability.test_bad_input import HOSTILE_NAMES
from tests.reliability.test_model_faults import HANDLERS, exchange, tool_call
from tests.support.livekit_server import free_port
from tests.support.ui_participant import UIParticipant
from tests.support.worker_process import WebProcess
from worker.simulator import Faults, Simulator, SimulatorConfig

pytestmark = pytest.mark.integration

# The stack's web backend is in api-key mode (tests/reliability/conftest.py): the app's server calls.
APP_SERVER = {"Authorization": f"Bearer {WEB_API_KEY}", "Content-Type": "application/json"}


# --- the web API never answers 5xx ---------------------------------------------------------------


def test_web_api_never_answers_5xx_to_generated_requests(rel: RelStack) -> None:
    """schemathesis generates requests for every operation of /api/openapi.json, valid and invalid ones."""
    schema = schemathesis.openapi.from_url(rel.web_url + "/api/openapi.json")
    counts: dict[str, list[int]] = {}
    for result in schema.get_all_operations():
        for mode in schemathesis.GenerationMode:
            try:
                _generated_requests(rel, result.ok(), mode, counts)()
            except Unsatisfiable:
                assert mode is schemathesis.GenerationMode.NEGATIVE  # nothing to break: no body, no parameter
    print(f"\nstatus codes per operation: { {k: sorted(set(v)) for k, v in counts.items()} }")
    assert len(counts) >= 8 and all(max(v) < 500 for v in counts.values())


def _generated_requests(rel: RelStack, operation: Any, mode: Any, counts: dict[str, list[int]]) -> Any:
    @given(case=operation.as_strategy(mode))
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: Any) -> None:
        response = case.call(
            base_url=rel.web_url, headers={"Authorization": APP_SERVER["Authorization"]}, timeout=15
        )
        rel.bodies.append(response.text)
        counts.setdefault(f"{operation.label} ({mode.value})", []).append(response.status_code)
        case.validate_response(response, checks=[not_a_server_error])

    return check


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"[]",
        b'"role"',
        b'{"role": null}',
        b'{"role": {"$ne": ""}}',
        b'{"role": "bench", "vars": {"user_name": "x\\u0000y"}}',
        b'{"role": "bench", "vars": {"__proto__": 1}}',
        b'{"role": "bench", "vars": ' + json.dumps({f"v{i}": i for i in range(200)}).encode() + b"}",
        b'{"role": "' + b"a" * 20_000 + b'"}',
        b"\xff\xfe\x00",
        json.dumps({"role": "bench", "extra": [[[[[[[[[[[]]]]]]]]]]]}).encode(),
        b"[" * 5000 + b"]" * 5000,
        b'{"role": "bench", "vars": {"user_name": NaN}}',
        b'{"role": "bench", "vars": {"user_name": -Infinity}}',
        b'{"role": "bench", "vars": {"user_name": 1e309}}',
        b'{"role": "bench", "identity": "../../admin"}',
    ],
)
def test_malformed_session_requests_are_4xx(rel: RelStack, body: bytes) -> None:
    status, text = rel.http("POST", "/api/session", body, APP_SERVER)
    assert 400 <= status < 500, (status, text)
    assert json.loads(text)["error"]["code"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_role_names_are_refused_by_the_web_api(rel: RelStack, name: str) -> None:
    status, text = rel.http("POST", "/api/session", json.dumps({"role": name}).encode(), APP_SERVER)
    assert status in (404, 422), (status, text)
    error = json.loads(text)["error"]
    assert error["code"] in ("unknown_role", "invalid_request"), error
    assert str(rel.roles_dir) not in text


# --- the simulator survives random client events -------------------------------------------------

CLIENT_TYPES = [
    "session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "conversation.item.create",
    "conversation.item.retrieve",
    "conversation.item.truncate",
    "conversation.item.delete",
    "response.create",
    "response.cancel",
    "output_audio_buffer.clear",
    "nonsense.event",
]
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=10,
)
FIELDS = st.sampled_from(
    [
        "session",
        "item",
        "audio",
        "response",
        "item_id",
        "content_index",
        "audio_end_ms",
        "event_id",
        "previous_item_id",
        "x",
    ]
)
EVENTS = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(CLIENT_TYPES)}).flatmap(
        lambda base: st.dictionaries(FIELDS, VALUES, max_size=4).map(lambda extra: {**extra, **base})
    ),
    VALUES,
)
MESSAGES = st.one_of(EVENTS.map(json.dumps), st.text(max_size=50), st.binary(max_size=50))


@settings(max_examples=30, deadline=None)
@given(st.lists(MESSAGES, min_size=1, max_size=25))
def test_simulator_survives_random_client_events(messages: list[str | bytes]) -> None:
    asyncio.run(_random_events(messages))


async def _random_events(messages: list[str | bytes]) -> None:
    baseline = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}
    async with Simulator(SimulatorConfig(port=0, speech="tone", faults=Faults(audio_pace=0))) as sim:
        async with connect(sim.ws_url, additional_headers={"Authorization": "Bearer x"}) as ws:
            await asyncio.wait_for(ws.recv(), 5)  # session.created
            for message in messages:
                await ws.send(message)
            # Still serving: a well-formed event gets its answer after all that.
            await ws.send(
                json.dumps({"type": "conversation.item.retrieve", "item_id": "nope", "event_id": "probe"})
            )
            async with asyncio.timeout(10):
                while True:
                    event = json.loads(await ws.recv())
                    if event.get("type") == "error" and event["error"].get("event_id") == "probe":
                        break
        refused = [r for r in sim.received if r.error is not None]
        errors = sim.sent_of("error")
        assert len(errors) >= len(refused) - 1  # every refusal answered (the probe's own is counted once)
        assert not sim.violations, sim.violations[:2]
        # Every connection task ends with the connection.
        async with asyncio.timeout(10):
            while sim.connections:
                await asyncio.sleep(0.01)
    async with asyncio.timeout(10):
        while leftover := {t for t in asyncio.all_tasks() if t is not asyncio.current_task()} - baseline:
            await asyncio.sleep(0.01)
    assert not leftover


# --- secrets never leak ------------------------------------------------------------------------


async def test_secrets_never_appear_in_logs_or_responses(rel: RelStack) -> None:
    """A whole session through the web API (http tool signed with the tool secret, webhook signed with the
    webhook secret, the model reached with the OpenAI key, LiveKit with its secret), then every log of
    this module's processes and every HTTP body the tests saw is scanned for every secret."""
    status, text = rel.http("GET", "/api/roles")
    assert status == 200
    body = json.dumps({"role": "bench", "identity": "ana-42"}).encode()
    status, text = rel.http("POST", "/api/session", body, APP_SERVER)
    assert status == 200, text
    info = json.loads(text)
    assert info["identity"] == "user-ana-42"
    json_type = {"Content-Type": "application/json"}
    for headers in (
        json_type,
        {**json_type, "Authorization": f"Bearer {WEB_API_KEY[:-1]}"},  # a near miss
        {**json_type, "Authorization": WEB_API_KEY},  # no scheme
        {**json_type, "Authorization": f"Bearer {WEB_API_KEY_OLD}x"},
    ):
        assert rel.http("POST", "/api/session", b'{"role": "bench"}', headers)[0] == 401
    await asyncio.to_thread(_jwt_mode_backend, rel)
    ui = await UIParticipant(
        rel.livekit, info["room"], identity=info["identity"], handlers=HANDLERS, token=info["token"]
    ).join()
    try:
        await ui.wait_for(lambda: "Hello" in ui.agent_text(), 30, "greeting")
        await exchange(rel, ui, "secret test")
        await tool_call(rel, ui, "secret card")
        await ui.say_text('/call lookup {"query": "pasta"}')
        await ui.wait_for(lambda: "pasta al limone" in ui.agent_text(), 20, "the http tool's answer")
        status, text = rel.http(
            "POST", "/api/session/redispatch", b"", {"Authorization": f"Bearer {info['token']}"}
        )
        assert status == 409, text  # the agent is there
        status, text = rel.http("POST", "/api/session/redispatch", b"", {"Authorization": "Bearer nope"})
        assert status == 401
        for path in ("/api/health", "/api/openapi.json", "/", "/api/recipes/carbonara", "/nope.js"):
            rel.http("GET", path)
    finally:
        await ui.leave()
    report = await rel.report(info["room"])
    assert [c for c in report["tool_calls"] if c["name"] == "lookup" and c["outcome"] == "ok"]
    assert rel.app.received and all(r.signature_ok for r in rel.app.received if r.path == "/lookup")
    await asyncio.sleep(1.0)
    texts = _logs(rel)
    texts["webhook bodies"] = json.dumps([r.body for r in rel.hook.received])  # type: ignore[union-attr]
    texts["webhook headers"] = json.dumps([r.headers for r in rel.hook.hook_attempts])  # type: ignore[union-attr]
    texts["report spool"] = _spool_text(Path(rel.worker.env["ROLECALL_SPOOL_DIR"]))
    texts["tool backend bodies"] = json.dumps([r.body for r in rel.app.received])
    texts["simulator events"] = json.dumps([r.event for r in rel.simulator.sim.received])
    for i, body in enumerate(rel.bodies):
        texts[f"HTTP response {i}"] = body
    leaks = [
        (name, where) for name, secret in SECRETS.items() for where, text in texts.items() if secret in text
    ]
    sizes = {k: len(v) for k, v in texts.items() if not k.startswith("HTTP response")}
    print(f"\nscanned {len(rel.bodies)} HTTP response bodies and {sizes} characters of logs and records")
    assert len(rel.bodies) > 50
    assert all(len(v) > 0 for k, v in texts.items() if k.endswith(".log"))
    assert not leaks, leaks


def _spool_text(spool: Path) -> str:
    """Every session's checkpoints and report on disk."""
    return "".join(p.read_text() for p in sorted(spool.rglob("*.jsonl")))


def _jwt_mode_backend(rel: RelStack) -> None:
    """A second web backend, in jwt mode, beside the stack's: app tokens signed with the JWT secret
    (good, forged, for a role they do not allow); its log joins the scan."""
    assert rel.web is not None
    log = rel.logs[0].parent / "web-jwt.log"
    env = {
        **rel.web.env,
        "ROLECALL_WEB_AUTH": "jwt",
        "ROLECALL_WEB_JWT_SECRET": WEB_JWT_SECRET,
        "ROLECALL_WEB_JWT_ISSUER": "https://app.example.com",
        "ROLECALL_WEB_JWT_AUDIENCE": "rolecall",
    }
    web = WebProcess(env, free_port(), log).start()
    rel.logs.append(log)
    claims = {"sub": "ana-42", "iss": "https://app.example.com", "aud": "rolecall", "roles": ["bench"]}
    exp = int(time.time()) + 120
    cases = [
        ({**claims, "exp": exp}, WEB_JWT_SECRET, {"role": "bench"}, 200),
        ({**claims, "exp": exp}, WEB_JWT_SECRET, {"role": "bench-second"}, 403),
        ({**claims, "exp": exp}, WEB_JWT_SECRET[:-1], {"role": "bench"}, 401),
        ({**claims, "exp": exp - 3600}, WEB_JWT_SECRET, {"role": "bench"}, 401),
    ]
    try:
        for token_claims, secret, body, expected in cases:
            token = jwt.encode(token_claims, secret, algorithm="HS256")
            request = urllib.request.Request(
                f"http://127.0.0.1:{web.port}/api/session",
                data=json.dumps(body).encode(),
                method="POST",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=15) as resp:
                    status, text = resp.status, resp.read().decode()
            except urllib.error.HTTPError as exc:
                status, text = exc.code, exc.read().decode()
            rel.bodies.append(text)
            assert status == expected, (body, text)
    finally:
        web.stop()


def _logs(rel: RelStack) -> dict[str, str]:
    """Every log file of this module's processes, by path."""
    paths = [*rel.logs, *([rel.livekit.log_path] if rel.livekit.log_path else [])]
    return {str(p): Path(p).read_text(errors="replace") for p in paths}
