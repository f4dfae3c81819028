"""The web backend's settings checks (pure): a backend open to strangers, or one that could never
authenticate anyone, does not start."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from worker.settings import Settings, SettingsError
from worker.web.config import is_loopback, problems

pytestmark = pytest.mark.unit

KEY = "k" * 32


def settings(**overrides: Any) -> Settings:
    base = Settings(livekit_url="ws://x", livekit_api_key="k", livekit_api_secret="s")
    return dataclasses.replace(base, **overrides)


def test_none_is_refused_on_a_public_address_without_the_override() -> None:
    for host in ("0.0.0.0", "::", "", "192.0.2.10", "web.example.com"):
        (problem,) = problems(settings(), host)
        assert problem.startswith(f"ROLECALL_WEB_AUTH=none on {host or 'every interface'}: anyone who")
        assert "ROLECALL_WEB_ALLOW_ANONYMOUS=true" in problem and "api-key or jwt" in problem
        assert problems(settings(web_allow_anonymous=True), host) == []
        assert problems(settings(web_auth="api-key", web_api_keys=KEY), host) == []
    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"):
        assert is_loopback(host) and problems(settings(), host) == [], host
    assert problems(settings()) == []  # create_app: no host known


def test_the_override_reads_from_the_environment() -> None:
    base = {"LIVEKIT_URL": "ws://x", "LIVEKIT_API_KEY": "k", "LIVEKIT_API_SECRET": "s" * 32}
    loaded = Settings.load({**base, "ROLECALL_WEB_ALLOW_ANONYMOUS": "true"}, dotenv=None)
    assert problems(loaded, "0.0.0.0") == []
    assert problems(Settings.load(base, dotenv=None), "0.0.0.0")


def test_api_key_mode_needs_long_keys() -> None:
    assert problems(settings(web_auth="api-key")) == [
        "ROLECALL_WEB_API_KEYS is required when ROLECALL_WEB_AUTH=api-key"
    ]
    (problem,) = problems(settings(web_auth="api-key", web_api_keys=f"{KEY}, tiny-key, {KEY}"))
    assert problem.startswith("ROLECALL_WEB_API_KEYS: key(s) number 2 are shorter than 32 characters")
    assert "tiny-key" not in problem  # the key itself is never shown


def test_jwt_mode_needs_one_key_source_issuer_and_audience() -> None:
    assert problems(settings(web_auth="jwt")) == [
        "ROLECALL_WEB_AUTH=jwt needs exactly one of ROLECALL_WEB_JWT_SECRET (HS256) and "
        "ROLECALL_WEB_JWT_JWKS_URL (RS256/ES256)",
        "ROLECALL_WEB_JWT_ISSUER is required when ROLECALL_WEB_AUTH=jwt",
        "ROLECALL_WEB_JWT_AUDIENCE is required when ROLECALL_WEB_AUTH=jwt",
    ]
    both = settings(
        web_auth="jwt",
        web_jwt_secret="x" * 40,
        web_jwt_jwks_url="https://app.example.com/.well-known/jwks.json",
        web_jwt_issuer="i",
        web_jwt_audience="a",
    )
    assert len(problems(both)) == 1
    good = dataclasses.replace(both, web_jwt_secret="")
    assert problems(good) == []
    assert problems(dataclasses.replace(good, web_jwt_jwks_url="file:///etc/keys")) == [
        "ROLECALL_WEB_JWT_JWKS_URL=file:///etc/keys: expected an https:// URL"
    ]
    short = dataclasses.replace(good, web_jwt_jwks_url="", web_jwt_secret="short")
    assert problems(short) == ["ROLECALL_WEB_JWT_SECRET is shorter than 32 characters"]


def test_other_web_settings() -> None:
    assert problems(settings(web_auth="basic")) == [
        "ROLECALL_WEB_AUTH=basic: expected one of none, api-key, jwt"
    ]
    assert problems(settings(trusted_proxies="10.0.0.0/8, ::1, 192.0.2.1")) == []
    (problem,) = problems(settings(trusted_proxies="10.0.0.0/8, proxy.local"))
    assert problem.startswith("ROLECALL_TRUSTED_PROXIES=10.0.0.0/8, proxy.local: ")
    assert problems(settings(web_session_burst=0)) == ["ROLECALL_WEB_SESSION_BURST=0: expected at least 1"]
    assert problems(settings(web_session_burst=0, web_sessions_per_minute=0)) == []


def test_secrets_stay_out_of_reprs_and_errors() -> None:
    s = settings(web_api_keys=KEY + "API", web_jwt_secret="jwt-secret-" + "x" * 30)
    assert "API" not in repr(s).replace("web_api", "") and "jwt-secret-" not in repr(s)
    with pytest.raises(SettingsError) as excinfo:
        Settings.load(
            {
                "LIVEKIT_URL": "ws://x",
                "LIVEKIT_API_KEY": "k",
                "LIVEKIT_API_SECRET": "s" * 32,
                "ROLECALL_WEB_SESSIONS_PER_MINUTE": "many",
            },
            dotenv=None,
        )
    assert "ROLECALL_WEB_SESSIONS_PER_MINUTE='many': expected a whole number" in str(excinfo.value)


def test_create_app_refuses_settings_that_cannot_work() -> None:
    from worker.web import create_app

    with pytest.raises(SettingsError, match="ROLECALL_WEB_API_KEYS is required"):
        create_app(settings(web_auth="api-key"))
