"""The web backend's own settings checks: auth mode, keys, JWT verification, limits, trusted proxies.

`problems(settings, host)` runs when `python -m worker web` starts (with the address it will bind) and
in `create_app` (without one), so a web backend that would be open to strangers, or that could never
authenticate anyone, refuses to start with a message naming the setting.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from worker.settings import Settings

AUTH_MODES = ("none", "api-key", "jwt")
MIN_SECRET_CHARS = 32
"""Shortest API key or HS256 secret accepted: a guessable key would make the auth decorative."""

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the server reachable from this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost, or "" (every interface)


def api_keys(settings: Settings) -> list[str]:
    """`ROLECALL_WEB_API_KEYS` as a list."""
    return [k.strip() for k in settings.web_api_keys.split(",") if k.strip()]


def trusted_networks(settings: Settings) -> tuple[Network, ...]:
    """`ROLECALL_TRUSTED_PROXIES` as networks (a bare address is a /32 or /128). ValueError if malformed."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False)
        for part in settings.trusted_proxies.split(",")
        if part.strip()
    )


def problems(settings: Settings, host: str | None = None) -> list[str]:
    """What is wrong with the web settings, one line per setting; `host` is the address to bind."""
    out: list[str] = []
    mode = settings.web_auth
    if mode not in AUTH_MODES:
        out.append(f"ROLECALL_WEB_AUTH={mode}: expected one of {', '.join(AUTH_MODES)}")
    if mode == "none" and host is not None and not is_loopback(host) and not settings.web_allow_anonymous:
        out.append(
            f"ROLECALL_WEB_AUTH=none on {host or 'every interface'}: anyone who reaches this address could "
            "start paid sessions. Use ROLECALL_WEB_AUTH=api-key or jwt (see README, 'The web backend'), bind "
            "127.0.0.1, or set ROLECALL_WEB_ALLOW_ANONYMOUS=true if something in front keeps strangers out"
        )
    if mode == "api-key":
        keys = api_keys(settings)
        if not keys:
            out.append("ROLECALL_WEB_API_KEYS is required when ROLECALL_WEB_AUTH=api-key")
        short = [i + 1 for i, k in enumerate(keys) if len(k) < MIN_SECRET_CHARS]
        if short:
            out.append(
                f"ROLECALL_WEB_API_KEYS: key(s) number {', '.join(map(str, short))} are shorter than "
                f"{MIN_SECRET_CHARS} characters (openssl rand -hex 32)"
            )
    if mode == "jwt":
        out += _jwt_problems(settings)
    if settings.web_sessions_per_minute and settings.web_session_burst < 1:
        out.append(f"ROLECALL_WEB_SESSION_BURST={settings.web_session_burst}: expected at least 1")
    try:
        trusted_networks(settings)
    except ValueError as exc:
        out.append(f"ROLECALL_TRUSTED_PROXIES={settings.trusted_proxies}: {exc}")
    return out


def _jwt_problems(settings: Settings) -> list[str]:
    out: list[str] = []
    secret, jwks = settings.web_jwt_secret, settings.web_jwt_jwks_url
    if bool(secret) == bool(jwks):
        out.append(
            "ROLECALL_WEB_AUTH=jwt needs exactly one of ROLECALL_WEB_JWT_SECRET (HS256) and "
            "ROLECALL_WEB_JWT_JWKS_URL (RS256/ES256)"
        )
    if secret and len(secret) < MIN_SECRET_CHARS:
        out.append(f"ROLECALL_WEB_JWT_SECRET is shorter than {MIN_SECRET_CHARS} characters")
    if jwks:
        url = urlsplit(jwks)
        if url.scheme not in ("http", "https") or not url.hostname:
            out.append(f"ROLECALL_WEB_JWT_JWKS_URL={jwks}: expected an https:// URL")
    for name, value in (
        ("ROLECALL_WEB_JWT_ISSUER", settings.web_jwt_issuer),
        ("ROLECALL_WEB_JWT_AUDIENCE", settings.web_jwt_audience),
    ):
        if not value:
            out.append(f"{name} is required when ROLECALL_WEB_AUTH=jwt")
    return out
