"""http tools call public addresses only, checked on the addresses a connection really uses.

The integration tests run a real HTTP server on loopback and show that a *name* resolving to it is
refused when the worker connects (not only a URL spelling an address), and that the operator's
allowances (`ROLECALL_HTTP_PRIVATE_HOSTS`, the host of `ROLECALL_APP_URL`) let it through.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from worker.settings import Settings
from worker.tools.egress import EgressPolicy, EgressRefused, GuardedResolver, client_session
from worker.tools.http import CallContext, HttpTarget, HttpToolError, post_json

CTX = CallContext(room="r1", session_id="r1:job", participant="u1", role="cook")


def _result(host: str, address: str) -> ResolveResult:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return {"hostname": host, "host": address, "port": 80, "family": family, "proto": 0, "flags": 0}


class Answers(AbstractResolver):
    """A DNS server under the attacker's control: each lookup gets the next answer (DNS rebinding)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [_result(host, address) for address in self.answers.pop(0)]

    async def close(self) -> None:
        pass


# ------------------------------------------------------------------------------------------ unit


@pytest.mark.unit
@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("169.254.169.254", "host '169.254.169.254' is a link-local address"),
        ("127.0.0.1", "host '127.0.0.1' is a loopback address"),
        ("127.1", "host '127.1' (127.0.0.1) is a loopback address"),
        ("::1", "host '::1' is a loopback address"),
        ("10.0.0.7", "host '10.0.0.7' is a private address"),
        ("93.184.215.14", None),
        ("api.example.com", None),  # a name: checked on what it resolves to, by GuardedResolver
        ("10.1.2.3", None),  # listed by the operator
        ("192.168.5.5", None),  # the app backend's host
    ],
)
def test_literal_addresses(host: str, expected: str | None) -> None:
    policy = EgressPolicy.from_settings(
        Settings(app_url="http://192.168.5.5:8080", http_private_hosts="10.1.2.3")
    )
    problem = policy.literal_problem(host)
    if expected is None:
        assert problem is None
    else:
        assert problem == f"{expected}, which http tools may not call on this worker"


@pytest.mark.unit
async def test_the_resolver_checks_every_answer_so_rebinding_does_not_help() -> None:
    resolver = GuardedResolver(
        EgressPolicy(), Answers(["93.184.215.14"], ["10.0.0.5"], ["10.0.0.5", "93.184.215.14"])
    )
    assert [r["host"] for r in await resolver.resolve("rebind.example")] == ["93.184.215.14"]
    with pytest.raises(EgressRefused, match=r"host 'rebind.example' \(10.0.0.5\) is a private address"):
        await resolver.resolve("rebind.example")
    assert [r["host"] for r in await resolver.resolve("rebind.example")] == ["93.184.215.14"]


@pytest.mark.unit
async def test_an_allowed_host_may_resolve_to_private_addresses() -> None:
    resolver = GuardedResolver(EgressPolicy(frozenset({"web"})), Answers(["172.18.0.3"]))
    assert [r["host"] for r in await resolver.resolve("WEB")] == ["172.18.0.3"]


# ------------------------------------------------------------------------------------------ real server


@pytest.fixture
async def server() -> AsyncIterator[tuple[int, list[web.Request]]]:
    seen: list[web.Request] = []

    async def echo(request: web.Request) -> web.Response:
        seen.append(request)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/echo", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield runner.addresses[0][1], seen
    await runner.cleanup()


async def _call(policy: EgressPolicy, url: str) -> str:
    async with client_session(policy) as http:
        return await post_json(http, HttpTarget("t", url, egress=policy), {"a": 1}, CTX)


@pytest.mark.integration
async def test_a_name_that_resolves_to_loopback_is_refused_when_connecting(
    server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # The URL names no address: only the resolution, when the worker connects, shows it is loopback.
    port, seen = server
    name = "localhost"
    with pytest.raises(HttpToolError) as info:
        await _call(EgressPolicy(), f"http://{name}:{port}/echo")
    assert (
        str(info.value)
        == f"host {name!r} (127.0.0.1) is a loopback address, which http tools may not call on this worker"
    )
    assert seen == []
    assert f"http tools: {name} resolves to 127.0.0.1 (loopback); not called" in caplog.text


@pytest.mark.integration
@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433", "[::ffff:127.0.0.1]"])
async def test_a_literal_loopback_address_is_refused_before_connecting(server: Any, host: str) -> None:
    port, seen = server
    with pytest.raises(HttpToolError, match=r"is a loopback address, which http tools may not call"):
        await _call(EgressPolicy(), f"http://{host}:{port}/echo")
    assert seen == []


@pytest.mark.integration
@pytest.mark.parametrize(
    ("settings", "url"),
    [
        (Settings(http_private_hosts="localhost"), "http://localhost:{port}/echo"),
        (Settings(http_private_hosts="127.0.0.1"), "http://127.0.0.1:{port}/echo"),
        (Settings(app_url="http://localhost:1"), "http://localhost:{port}/echo"),  # the app backend's host
    ],
)
async def test_the_operator_can_allow_a_private_host(server: Any, settings: Settings, url: str) -> None:
    port, seen = server
    assert await _call(EgressPolicy.from_settings(settings), url.format(port=port)) == '{"ok":true}'
    assert len(seen) == 1


@pytest.mark.integration
async def test_the_worker_session_refuses_without_the_targets_policy(server: Any) -> None:
    # Defence in depth: even a target built without `egress` cannot reach loopback through the worker's
    # session when the URL names it.
    port, seen = server
    async with client_session(EgressPolicy()) as http:
        with pytest.raises(HttpToolError, match="is a loopback address"):
            await post_json(http, HttpTarget("t", f"http://localhost:{port}/echo"), {}, CTX)
    async with aiohttp.ClientSession() as plain:  # what the guard replaces: a plain session connects
        assert (
            await post_json(plain, HttpTarget("t", f"http://localhost:{port}/echo"), {}, CTX) == '{"ok":true}'
        )
    assert len(seen) == 1
