"""App authentication (pure: mocked requests, tokens made here): who may start a session, and what the
caller may choose. The JWKS mode, which needs an HTTP server, is in test_auth_http.py."""

from __future__ import annotations

import dataclasses
import logging
import time
import warnings
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from cryptography.hazmat.primitives.asymmetric import rsa

from worker.settings import Settings
from worker.web.auth import Authenticator, Caller
from worker.web.errors import ApiError
from worker.web.models import SessionRequest

pytestmark = pytest.mark.unit

KEY_A = "app-key-A-0123456789abcdef0123456789abcdef"
KEY_B = "app-key-B-fedcba9876543210fedcba9876543210"
JWT_SECRET = "app-jwt-secret-0123456789abcdef0123456789"
ISSUER = "https://app.example.com"
AUDIENCE = "rolecall"


def settings(**overrides: Any) -> Settings:
    base = Settings(livekit_url="ws://x", livekit_api_key="k", livekit_api_secret="s")
    return dataclasses.replace(base, **overrides)


def request(headers: dict[str, str] | None = None, remote: str = "203.0.113.7") -> web.Request:
    return make_mocked_request("POST", "/api/session", headers=headers).clone(remote=remote)


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


async def refused(auth: Authenticator, req: web.Request, status: int, code: str) -> ApiError:
    with pytest.raises(ApiError) as excinfo:
        await auth.caller(req)
    err = excinfo.value
    assert (err.status, err.code) == (status, code), err.message
    if status == 401:
        assert err.headers is not None and err.headers["WWW-Authenticate"].startswith("Bearer")
    return err


# --------------------------------------------------------------------------------------- none


async def test_none_mode_keys_the_client_by_its_address_only() -> None:
    auth = Authenticator(settings())
    caller = await auth.caller(request({"X-Forwarded-For": "198.51.100.1"}))
    assert caller.rate_keys == ("ip:203.0.113.7",)  # the spoofed header counts for nothing
    assert caller.identity is None and caller.roles is None and not caller.may_set_identity
    behind_proxy = Authenticator(settings(trusted_proxies="203.0.113.0/24"))
    caller = await behind_proxy.caller(request({"X-Forwarded-For": "198.51.100.1"}))
    assert caller.rate_keys == ("ip:198.51.100.1",)


# --------------------------------------------------------------------------------------- api-key


async def test_api_key_mode_needs_one_of_the_keys(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    auth = Authenticator(settings(web_auth="api-key", web_api_keys=f"{KEY_A}, {KEY_B}"))
    messages = [
        (await refused(auth, request(), 401, "unauthorized")).message,
        (await refused(auth, request({"Authorization": KEY_A}), 401, "unauthorized")).message,
        (await refused(auth, request({"Authorization": f"Basic {KEY_A}"}), 401, "unauthorized")).message,
        (await refused(auth, request(bearer(KEY_A[:-1])), 401, "invalid_api_key")).message,
        (await refused(auth, request(bearer(KEY_A + "x")), 401, "invalid_api_key")).message,
        (await refused(auth, request(bearer(f"{KEY_A},{KEY_B}")), 401, "invalid_api_key")).message,
    ]
    for key in (KEY_A, KEY_B):  # rotation: both keys work
        caller = await auth.caller(request(bearer(key)))
        assert caller.may_set_identity and caller.rate_keys == ()  # the app's servers: no per-client bucket
    texts = [*messages, caplog.text, repr(auth.__dict__)]
    assert not [t for t in texts if KEY_A[:20] in t or KEY_B[:20] in t]
    assert "unknown API key from 203.0.113.7" in caplog.text


async def test_only_api_key_callers_may_choose_the_identity() -> None:
    body = SessionRequest(role="cooking-guide", identity="ana@example.com")
    assert Caller("a", may_set_identity=True).terms(body) == ("ana@example.com", {})
    with pytest.raises(ApiError) as excinfo:
        Caller("a").terms(body)
    assert (excinfo.value.status, excinfo.value.code) == (403, "identity_not_allowed")


def test_identities_are_checked_by_the_body_model() -> None:
    from pydantic import ValidationError

    for bad in ["", "a b", "../etc", "x" * 129, "-lead", "ana\n", "é"]:
        with pytest.raises(ValidationError):
            SessionRequest(role="r", identity=bad)
    assert SessionRequest(role="r", identity="auth0|5f3a").identity == "auth0|5f3a"


# --------------------------------------------------------------------------------------- jwt (HS256)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "sub": "ana-42",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
        "roles": ["cooking-guide"],
        "vars": {"user_name": "Ana"},
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def hs256(**overrides: Any) -> str:
    return jwt.encode(claims(**overrides), JWT_SECRET, algorithm="HS256")


def jwt_auth() -> Authenticator:
    return Authenticator(
        settings(web_auth="jwt", web_jwt_secret=JWT_SECRET, web_jwt_issuer=ISSUER, web_jwt_audience=AUDIENCE)
    )


async def test_a_good_app_token_names_the_user_roles_and_vars() -> None:
    caller = await jwt_auth().caller(request(bearer(hs256())))
    assert caller.identity == "ana-42"
    assert caller.roles == frozenset({"cooking-guide"})
    assert dict(caller.asserted_vars) == {"user_name": "Ana"}
    assert caller.rate_keys == ("ip:203.0.113.7", "user:ana-42")  # by address and by user
    assert not caller.may_set_identity
    # Expired 5 s ago is inside the 10 s leeway.
    assert (await jwt_auth().caller(request(bearer(hs256(exp=int(time.time()) - 5))))).identity == "ana-42"


async def test_bad_app_tokens_are_401() -> None:
    auth = jwt_auth()
    now = int(time.time())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with warnings.catch_warnings():  # PyJWT warns that the secret is short for SHA-512: it is refused anyway
        warnings.simplefilter("ignore")
        hs512_same_secret = jwt.encode(claims(), JWT_SECRET, algorithm="HS512")
    cases = {
        "not a JWT": "garbage",
        "must be signed with HS256": jwt.encode(claims(), None, algorithm="none"),
        "must be signed with HS256 ": hs512_same_secret,
        "must be signed with HS256  ": jwt.encode(claims(), rsa_key, algorithm="RS256"),
        "signature does not verify": jwt.encode(claims(), JWT_SECRET + "x", algorithm="HS256"),
        "has expired": hs256(exp=now - 60),
        "not for this service": hs256(aud="another-service"),
        "not for this service ": hs256(iss="https://evil.example"),
        "lacks the 'exp' claim": hs256(exp=None),
        "lacks the 'sub' claim": hs256(sub=None),
        "lacks the 'aud' claim": hs256(aud=None),
        "roles claim is invalid": hs256(roles=None),
        "roles claim is invalid ": hs256(roles="cooking-guide"),
        "sub claim is invalid": hs256(sub="ana smith"),
        "sub claim is invalid ": hs256(sub="x" * 200),
        "vars claim is invalid": hs256(vars={"user_name": ["a"]}),
        "vars claim is invalid ": hs256(vars="Ana"),
    }
    for expected, token in cases.items():
        err = await refused(auth, request(bearer(token)), 401, "invalid_token")
        assert expected.strip() in err.message, (expected, err.message)
        assert JWT_SECRET not in err.message
    # A forged alg header on an otherwise good token (the signature then does not match).
    payload = hs256().split(".")[1]
    forged_header = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    await refused(auth, request(bearer(f"{forged_header}.{payload}.")), 401, "invalid_token")
    await refused(auth, request(), 401, "unauthorized")


async def test_the_token_decides_roles_and_asserted_vars() -> None:
    caller = await jwt_auth().caller(request(bearer(hs256(vars={"user_name": "Ana", "units": "metric"}))))
    ok = caller.terms(SessionRequest(role="cooking-guide", vars={"skill_level": "beginner"}))
    assert ok == ("ana-42", {"skill_level": "beginner", "user_name": "Ana", "units": "metric"})
    with pytest.raises(ApiError) as excinfo:
        caller.terms(SessionRequest(role="sommelier"))
    assert (excinfo.value.status, excinfo.value.code) == (403, "role_not_allowed")
    assert "'sommelier'" in excinfo.value.message
    with pytest.raises(ApiError) as excinfo:
        caller.terms(SessionRequest(role="cooking-guide", vars={"user_name": "Mallory"}))
    err = excinfo.value
    assert (err.status, err.code, err.extra["field"]) == (403, "var_set_by_app", "vars.user_name")
    assert err.message == "vars.user_name is set by the app's token and cannot be sent by the page"
    empty = await jwt_auth().caller(request(bearer(hs256(roles=[]))))
    with pytest.raises(ApiError):
        empty.terms(SessionRequest(role="cooking-guide"))
