"""The verification examples (examples/verify/, shown in docs/how-to/app-backend.md) accept what the worker really sends and refuse
anything else: the Python one in-process, the Node one run with `node` on the same requests."""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from worker.outbox.envelope import Signer
from worker.signing import sign_request
from worker.tools.http import CallContext, HttpTarget, idempotency_key, post_json

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "verify"
TOOL_SECRET = "tool-secret-for-the-examples"
WHSEC = "whsec_" + base64.b64encode(b"k" * 32).decode()
RAW = "a-raw-webhook-secret-of-text"


def _python_example() -> Any:
    spec = importlib.util.spec_from_file_location("rolecall_verify", EXAMPLES / "rolecall_verify.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.unit
def test_the_python_example_checks_tool_calls_and_answers_each_once() -> None:
    ex = _python_example()
    body, key, path = b'{"query":"pasta"}', "rc_1", "/api/recipes/search?x=1"
    headers = {
        "x-rolecall-signature": sign_request(
            TOOL_SECRET, method="POST", path=path, idempotency_key=key, body=body
        ),
        "idempotency-key": key,
    }
    assert ex.verify_tool_call(TOOL_SECRET, method="post", path=path, headers=headers, body=body) == key
    for wrong in (
        {"path": "/api/other"},
        {"method": "PUT"},
        {"body": b'{"query":"cake"}'},
        {"headers": {**headers, "idempotency-key": "rc_2"}},
        {"now": time.time() + 301},
    ):
        call = {"method": "POST", "path": path, "headers": headers, "body": body, **wrong}
        with pytest.raises(ex.Refused):
            ex.verify_tool_call(TOOL_SECRET, **call)
    calls, work = ex.Calls(), iter(range(10))
    assert [calls.answer("rc_1", lambda: next(work)) for _ in range(3)] == [0, 0, 0]
    assert calls.answer("rc_2", lambda: next(work)) == 1


@pytest.mark.unit
def test_the_python_example_checks_the_webhook_with_either_kind_of_secret() -> None:
    ex = _python_example()
    body = b'{"type":"session.ended","id":"evt_1"}'
    for secret in (WHSEC, RAW):
        headers = Signer(secret).headers("evt_1", body)
        assert ex.verify_webhook(secret, headers, body)["id"] == "evt_1"
        with pytest.raises(ex.Refused):
            ex.verify_webhook(secret, headers, body.replace(b"evt_1", b"evt_2"))
        with pytest.raises(ex.Refused):
            ex.verify_webhook(secret, Signer("another-secret-of-text").headers("evt_1", body), body)


async def _real_tool_requests() -> list[dict[str, Any]]:
    """Two requests of one tool call and one of another, as the worker's http tool sends them."""
    seen: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(
            {
                "method": request.method,
                "path": request.raw_path,
                "headers": dict(request.headers),
                "body": await request.read(),
            }
        )
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/api/tool", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/tool?tenant=a%20b"
    target = HttpTarget("book", url, secret_env="TOOL_EXAMPLE_SECRET")
    ctx = CallContext(room="r", session_id="r:j", participant="u", role="cook")
    key = idempotency_key("r:j", "call_1")
    try:
        async with aiohttp.ClientSession() as http:
            for args, k in (({"seats": 2}, key), ({"seats": 2}, key), ({"seats": 3}, None)):
                await post_json(http, target, args, ctx, idempotency_key=k)
    finally:
        await runner.cleanup()
    return seen


@pytest.mark.integration  # a local HTTP server, and `node` as a child process
async def test_both_examples_accept_the_workers_requests_and_refuse_tampered_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOOL_EXAMPLE_SECRET", TOOL_SECRET)
    requests = await _real_tool_requests()
    cases: list[dict[str, Any]] = [{"kind": "tool", "secret": TOOL_SECRET, **r} for r in requests]
    first = requests[0]
    cases += [
        {"kind": "tool", "secret": TOOL_SECRET, **first, "path": "/api/other"},
        {"kind": "tool", "secret": TOOL_SECRET, **first, "body": first["body"] + b" "},
        {"kind": "tool", "secret": "not-the-secret", **first},
        {
            "kind": "tool",
            "secret": TOOL_SECRET,
            **first,
            "headers": {**first["headers"], "Idempotency-Key": "rc_x"},
        },
    ]
    event = b'{"type":"session.ended","id":"evt_9","data":{"room":"r"}}'
    for secret in (WHSEC, RAW):
        headers = Signer(secret, "the-previous-secret-text").headers("evt_9", event)
        cases.append({"kind": "webhook", "secret": secret, "headers": headers, "body": event})
        cases.append({"kind": "webhook", "secret": secret, "headers": headers, "body": event + b" "})
    wire = [{**c, "body": base64.b64encode(c["body"]).decode()} for c in cases]
    done = await asyncio.to_thread(
        subprocess.run,
        ["node", str(EXAMPLES / "rolecall-verify.mjs")],
        input=json.dumps(wire),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    node = json.loads(done.stdout)
    ok = [r["ok"] for r in node]
    assert ok == [True, True, True, False, False, False, False, True, False, True, False]
    keys = [r["value"]["key"] for r in node[:3]]
    assert keys[0] == keys[1] != keys[2]
    assert [r["value"]["worked"] for r in node[:3]] == [1, 0, 1]  # the retry was answered from the store
    assert node[7]["value"] == node[9]["value"] == "evt_9"
    # The Python example agrees, case by case.
    ex = _python_example()
    for case, result in zip(cases, node, strict=True):
        try:
            if case["kind"] == "tool":
                ex.verify_tool_call(
                    case["secret"],
                    method=case["method"],
                    path=case["path"],
                    headers=case["headers"],
                    body=case["body"],
                )
            else:
                ex.verify_webhook(case["secret"], case["headers"], case["body"])
            python_ok = True
        except ex.Refused:
            python_ok = False
        assert python_ok == result["ok"], case
