"""`ROLECALL_WEB_AUTH=jwt` with a JWKS URL: the app's keys served by a local aiohttp server, sessions
started on the real LiveKit server."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.support.livekit_server import LiveKitServer, free_port
from tests.web.conftest import make_settings, open_client

pytestmark = pytest.mark.integration

Client = TestClient[Any, Any]
ISSUER = "https://app.example.com"
AUDIENCE = "rolecall"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


class Jwks:
    """The app's JWKS endpoint; counts how often it is fetched."""

    def __init__(self) -> None:
        self.hits = 0
        rsa_jwk = json.loads(RSAAlgorithm.to_jwk(RSA_KEY.public_key()))
        ec_jwk = json.loads(ECAlgorithm.to_jwk(EC_KEY.public_key()))
        self.keys = [
            {**rsa_jwk, "kid": "rsa-1", "use": "sig", "alg": "RS256"},
            {**ec_jwk, "kid": "ec-1", "use": "sig", "alg": "ES256"},
        ]

    async def handle(self, _: web.Request) -> web.Response:
        self.hits += 1
        return web.json_response({"keys": self.keys})


@pytest.fixture
async def jwks() -> AsyncIterator[tuple[Jwks, str]]:
    endpoint = Jwks()
    app = web.Application()
    app.router.add_get("/.well-known/jwks.json", endpoint.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield endpoint, str(server.make_url("/.well-known/jwks.json"))
    await server.close()


def settings(server: LiveKitServer, jwks_url: str) -> Any:
    return make_settings(
        server,
        web_auth="jwt",
        web_jwt_jwks_url=jwks_url,
        web_jwt_issuer=ISSUER,
        web_jwt_audience=AUDIENCE,
    )


def token(key: Any, algorithm: str, kid: str, **overrides: Any) -> str:
    claims = {
        "sub": "ana-42",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": int(time.time()) + 300,
        "roles": ["cooking-guide", "sommelier"],
        **overrides,
    }
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})


async def start(client: Client, credential: str, role: str = "cooking-guide") -> tuple[int, dict[str, Any]]:
    resp = await client.post(
        "/api/session", json={"role": role}, headers={"Authorization": f"Bearer {credential}"}
    )
    return resp.status, await resp.json()


async def test_tokens_signed_with_the_apps_published_keys_start_sessions(
    livekit_server: LiveKitServer, jwks: tuple[Jwks, str]
) -> None:
    endpoint, url = jwks
    client = await open_client(settings(livekit_server, url))
    try:
        status, body = await start(client, token(RSA_KEY, "RS256", "rsa-1"))
        assert status == 200, body
        assert body["identity"] == "user-ana-42"
        status, body = await start(client, token(EC_KEY, "ES256", "ec-1", sub="bob"), role="sommelier")
        assert status == 200, body
        assert body["identity"] == "user-bob"
    finally:
        await client.close()
    assert endpoint.hits == 1  # the key set is cached


async def test_tokens_the_keys_do_not_vouch_for_are_refused(
    livekit_server: LiveKitServer, jwks: tuple[Jwks, str]
) -> None:
    endpoint, url = jwks
    client = await open_client(settings(livekit_server, url))
    other_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    try:
        # HS256 against a JWKS configuration: refused on the algorithm, before any key is looked up.
        for forged in (
            jwt.encode({"sub": "x", "roles": ["cooking-guide"]}, "a-guessable-secret-0123456789abcdef"),
            token("a-guessable-secret-0123456789abcdef", "HS256", "rsa-1"),
            jwt.encode({"sub": "x"}, None, algorithm="none"),
        ):
            status, body = await start(client, forged)
            assert (status, body["error"]["code"]) == (401, "invalid_token"), body
            assert "must be signed with RS256 or ES256" in body["error"]["message"]
        assert endpoint.hits == 0

        cases = {
            "signature does not verify": token(other_rsa, "RS256", "rsa-1"),
            "not for this service": token(RSA_KEY, "RS256", "rsa-1", aud="another-app"),
            "has expired": token(RSA_KEY, "RS256", "rsa-1", exp=int(time.time()) - 60),
            "roles claim is invalid": token(RSA_KEY, "RS256", "rsa-1", roles=None),
            "matches none of the app's signing keys": token(RSA_KEY, "RS256", "rsa-9"),
        }
        for expected, credential in cases.items():
            status, body = await start(client, credential)
            assert (status, body["error"]["code"]) == (401, "invalid_token"), body
            assert expected in body["error"]["message"], body
        # Unknown key ids refetch the key set at most once per cooldown, not once per request.
        hits = endpoint.hits
        for kid in ("rsa-7", "rsa-8"):
            assert (await start(client, token(RSA_KEY, "RS256", kid)))[0] == 401
        assert endpoint.hits == hits
    finally:
        await client.close()


async def test_an_unreachable_jwks_is_503_without_details(livekit_server: LiveKitServer) -> None:
    url = f"http://127.0.0.1:{free_port()}/.well-known/jwks.json"
    client = await open_client(settings(livekit_server, url))
    try:
        status, body = await start(client, token(RSA_KEY, "RS256", "rsa-1"))
    finally:
        await client.close()
    assert (status, body["error"]["code"]) == (503, "auth_unavailable")
    assert "127.0.0.1" not in body["error"]["message"]
