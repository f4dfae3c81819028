"""Who may start a session (`ROLECALL_WEB_AUTH`), and what the caller may choose.

none      anyone who reaches the backend; allowed only on loopback or with ROLECALL_WEB_ALLOW_ANONYMOUS.
          Rate-limited per client address.
api-key   the app's servers: `Authorization: Bearer <key>` with a key of ROLECALL_WEB_API_KEYS (compared
          in constant time). The body may also set `identity`. Exempt from the per-client rate (the
          app's servers speak for many users); the global cap still applies.
jwt       the browser, with a JWT the app issued (`worker.web.app_tokens`): `sub` names the user
          (identity `user-<sub>`), `roles` the roles they may start, `vars` variables the app asserts.
          Rate-limited per address and per user.

The participant identity is always `user-` plus the app's id (or a random one), which re-dispatch
relies on. Keys, secrets and tokens are never logged or echoed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import web

from worker.settings import Settings
from worker.web.app_tokens import AppTokenVerifier
from worker.web.clients import client_address, rate_key
from worker.web.config import api_keys, trusted_networks
from worker.web.errors import ApiError
from worker.web.models import MAX_VARS, SessionRequest, VarValue

logger = logging.getLogger("rolecall.web")

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="rolecall"'}


@dataclass(frozen=True)
class Caller:
    """A caller of `POST /api/session`, as the auth mode established it."""

    address: str
    identity: str | None = None
    """The app's id for the user (jwt `sub`); the participant identity is `user-` + it."""
    roles: frozenset[str] | None = None
    """Roles this caller may start; None: every role."""
    asserted_vars: Mapping[str, VarValue] = field(default_factory=dict)
    """Variables the app asserts (jwt `vars`): they override the page's, which may not set them."""
    may_set_identity: bool = False
    rate_keys: tuple[str, ...] = ()
    """Per-client rate limit keys; none for the app's own servers."""

    def terms(self, body: SessionRequest) -> tuple[str | None, dict[str, VarValue]]:
        """The identity (without `user-`, None for a random one) and the variables of the session
        `body` asks for: 403 when it asks for more than this caller may have."""
        if body.identity is not None and not self.may_set_identity:
            raise ApiError(
                403,
                "identity_not_allowed",
                "identity can only be set by the app's server (ROLECALL_WEB_AUTH=api-key)",
            )
        if self.roles is not None and body.role not in self.roles:
            raise ApiError(403, "role_not_allowed", f"your app token does not allow role {body.role!r}")
        fixed = sorted(set(body.vars) & set(self.asserted_vars))
        if fixed:
            raise ApiError(
                403,
                "var_set_by_app",
                f"vars.{fixed[0]} is set by the app's token and cannot be sent by the page",
                field=f"vars.{fixed[0]}",
            )
        merged = {**body.vars, **self.asserted_vars}
        if len(merged) > MAX_VARS:
            raise ApiError(400, "invalid_vars", f"vars: more than {MAX_VARS} variables", field="vars")
        return body.identity or self.identity, merged


class Authenticator:
    """Turns a request into a `Caller`, or refuses it (401, 503 when the app's keys cannot be fetched)."""

    def __init__(self, settings: Settings) -> None:
        self.mode = settings.web_auth
        self._trusted = trusted_networks(settings)
        self._key_digests = [_digest(k) for k in api_keys(settings)]
        self._tokens = AppTokenVerifier(settings) if self.mode == "jwt" else None

    def address(self, request: web.Request) -> str:
        """The client's address (`X-Forwarded-For` only from `ROLECALL_TRUSTED_PROXIES`)."""
        return client_address(request.remote, request.headers.getall("X-Forwarded-For", []), self._trusted)

    async def caller(self, request: web.Request) -> Caller:
        address = self.address(request)
        by_address = f"ip:{rate_key(address)}"
        if self.mode == "none":
            return Caller(address, rate_keys=(by_address,))
        token = _bearer(request.headers.get("Authorization"), self.mode)
        if self.mode == "api-key":
            if not self._known_key(token):
                logger.warning("session refused: unknown API key from %s", address)
                raise ApiError(401, "invalid_api_key", "the API key is not valid", headers=CHALLENGE)
            return Caller(address, may_set_identity=True)
        assert self._tokens is not None
        try:
            claims = await self._tokens.claims(token)
        except ApiError as exc:
            if exc.status == 401:
                logger.info("session refused from %s: %s", address, exc.message)
                exc.headers = CHALLENGE
            raise
        return Caller(
            address,
            identity=claims.sub,
            roles=frozenset(claims.roles),
            asserted_vars=claims.vars,
            rate_keys=(by_address, f"user:{claims.sub}"),
        )

    def _known_key(self, key: str) -> bool:
        # Compare against every key, digests of equal length, so timing says nothing about which or how much.
        digest = _digest(key)
        found = False
        for known in self._key_digests:
            found |= hmac.compare_digest(digest, known)
        return found


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def _bearer(authorization: str | None, mode: str) -> str:
    scheme, _, credential = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        what = "the app's API key" if mode == "api-key" else "the app's token (a JWT)"
        raise ApiError(
            401, "unauthorized", f"send {what} as 'Authorization: Bearer <...>'", headers=CHALLENGE
        )
    return credential.strip()
