"""The app's JWTs (`ROLECALL_WEB_AUTH=jwt`): verified with PyJWT, never by hand.

The app signs in its user and issues a short-lived JWT; the page sends it as `Authorization: Bearer` to
`POST /api/session`. Verification is fixed by configuration, never by the token: HS256 with
`ROLECALL_WEB_JWT_SECRET`, or RS256/ES256 with the keys published at `ROLECALL_WEB_JWT_JWKS_URL`
(PyJWT's `PyJWKClient`: cached for 5 minutes, an unknown `kid` refetches at most every 30 s, no
redirects). `exp`, `iss` (`ROLECALL_WEB_JWT_ISSUER`) and `aud` (`ROLECALL_WEB_JWT_AUDIENCE`) are
required and checked with 10 s leeway. The claims RoleCall reads are `AppClaims`.
"""

from __future__ import annotations

import asyncio
import logging

import jwt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from worker.settings import Settings
from worker.web.errors import ApiError
from worker.web.models import MAX_VARS, SUBJECT_PATTERN, VarValue

logger = logging.getLogger("rolecall.web")

LEEWAY_S = 10
JWKS_CACHE_S = 300
JWKS_TIMEOUT_S = 5
HMAC_ALGORITHMS = ["HS256"]
JWKS_ALGORITHMS = ["RS256", "ES256"]
MAX_ROLES = 64


class AppClaims(BaseModel):
    """What the app's token says: who the user is, which roles they may start, and variables the app
    asserts (they override the page's and the page may not set them)."""

    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)

    sub: str = Field(pattern=SUBJECT_PATTERN, description="the app's user id; the identity is user-<sub>")
    roles: list[str] = Field(max_length=MAX_ROLES, description="role names this user may start")
    vars: dict[str, VarValue] = Field(default_factory=dict, max_length=MAX_VARS)


def invalid(message: str) -> ApiError:
    return ApiError(401, "invalid_token", message)


class AppTokenVerifier:
    """Checks app tokens against the configured secret or JWKS, issuer and audience."""

    def __init__(self, settings: Settings) -> None:
        self.issuer = settings.web_jwt_issuer
        self.audience = settings.web_jwt_audience
        self._secret = settings.web_jwt_secret
        self._jwks: jwt.PyJWKClient | None = None
        if not self._secret:
            self._jwks = jwt.PyJWKClient(
                settings.web_jwt_jwks_url, lifespan=JWKS_CACHE_S, timeout=JWKS_TIMEOUT_S
            )
        self.algorithms = HMAC_ALGORITHMS if self._secret else JWKS_ALGORITHMS

    async def claims(self, token: str) -> AppClaims:
        """The verified claims of `token`: 401 `invalid_token` when it does not verify, 503
        `auth_unavailable` when the signing keys cannot be fetched."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise invalid("the app token is not a JWT") from None
        if header.get("alg") not in self.algorithms:
            # Checked before any key lookup: `none`, or HS256 against public keys, never gets further.
            raise invalid(f"the app token must be signed with {' or '.join(self.algorithms)}")
        key: str | jwt.PyJWK = self._secret
        if self._jwks is not None:
            key = await self._signing_key(token)
        try:
            raw = jwt.decode(
                token,
                key=key,
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise invalid("the app token has expired") from None
        except (jwt.InvalidAudienceError, jwt.InvalidIssuerError) as exc:
            raise invalid(f"the app token is not for this service ({exc})") from None
        except jwt.MissingRequiredClaimError as exc:
            raise invalid(f"the app token lacks the {exc.claim!r} claim") from None
        except jwt.PyJWTError:
            raise invalid("the app token's signature does not verify") from None
        try:
            return AppClaims.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            loc = [str(p) for p in first["loc"]]
            where = ".".join(loc[:2])
            # A bad variable fails every member of the value union; say what a value may be instead.
            message = "expected a string, a number or a boolean" if len(loc) > 2 else first["msg"]
            raise invalid(f"the app token's {loc[0]} claim is invalid ({where}: {message})") from None

    async def _signing_key(self, token: str) -> jwt.PyJWK:
        assert self._jwks is not None
        try:
            return await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientConnectionError as exc:
            logger.warning("cannot fetch the app's signing keys: %s", exc)
            raise ApiError(
                503, "auth_unavailable", "the app's signing keys cannot be fetched; try again shortly"
            ) from None
        except jwt.PyJWKClientError as exc:
            if str(exc).startswith("Unable to find a signing key"):
                raise invalid("the app token's key id (kid) matches none of the app's signing keys") from None
            logger.warning("the app's JWKS is unusable: %s", exc)
            raise ApiError(503, "auth_unavailable", "the app's signing keys are unusable") from None
        except jwt.PyJWTError:  # a malformed JWKS (PyJWKSetError) or key
            logger.warning("the app's JWKS is unusable", exc_info=True)
            raise ApiError(503, "auth_unavailable", "the app's signing keys are unusable") from None
