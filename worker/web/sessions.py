"""Session start and re-dispatch: the only code that mints tokens and creates agent dispatches.

A session is one fresh room per page, one user identity, one token and one explicit dispatch of agent
`Settings.agent_name` whose metadata is a `worker.dispatch.DispatchRequest`. The browser picks only the
role (checked against the registry, an allowlist) and its variables (checked by rendering the role).

The token doubles as the credential for re-dispatch: its claims (room, identity, and the role and vars in
its participant metadata) are protected by the JWT signature, so a re-dispatch can only ever bring the
same role back into the same room for the same user.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import secrets
from typing import Any

import aiohttp
import jwt
from livekit import api
from pydantic import ValidationError

from worker.dispatch import DispatchRequest
from worker.roles import (
    InvalidRoleError,
    Role,
    RoleError,
    RoleRegistry,
    RoleRenderError,
    UnknownRoleError,
)
from worker.settings import Settings
from worker.web.errors import ApiError
from worker.web.models import SessionRequest, SessionResponse, TokenMetadata

logger = logging.getLogger("rolecall.web")

ROOM_PREFIX = "rolecall-"
IDENTITY_PREFIX = "user-"
ROOM_EMPTY_TIMEOUT_S = 300
"""A session room closes this long after its last participant left (or if nobody ever joins)."""
TOKEN_LEEWAY = dt.timedelta(seconds=5)
"""Clock skew tolerated when verifying a token (livekit-api's default is a minute)."""
REDISPATCH_MARGIN_S = 300
"""How long after a session's longest possible end its token may still bring the agent back."""
MICROPHONE = "microphone"
LIVEKIT_ERRORS = (api.TwirpError, aiohttp.ClientError, asyncio.TimeoutError, OSError)
"""What a LiveKit server API call raises when the server is down, slow or refuses."""


def user_grants(room: str) -> api.VideoGrants:
    """What the page may do: join this one room, publish its microphone and data, subscribe. Nothing else."""
    return api.VideoGrants(
        room_join=True,
        room=room,
        can_publish=True,
        can_publish_sources=[MICROPHONE],
        can_publish_data=True,  # RPC replies to the agent's tool calls are data packets
        can_subscribe=True,
        can_update_own_metadata=False,
        room_create=False,
        room_list=False,
        room_record=False,
        room_admin=False,
        ingress_admin=False,
        recorder=False,
        hidden=False,
        agent=False,
    )


def livekit_unavailable(exc: BaseException) -> ApiError:
    """A LiveKit API failure, logged with details, answered without them."""
    logger.warning("LiveKit API call failed: %s: %s", type(exc).__name__, exc)
    return ApiError(503, "livekit_unavailable", "the LiveKit server is not reachable; try again shortly")


class Sessions:
    """Mints session tokens and dispatches the agent, through one `LiveKitAPI` client."""

    def __init__(self, settings: Settings, registry: RoleRegistry, lk: api.LiveKitAPI) -> None:
        self.settings = settings
        self.registry = registry
        self.lk = lk
        self._verifier = api.TokenVerifier(
            settings.livekit_api_key, settings.livekit_api_secret, leeway=TOKEN_LEEWAY
        )

    # ------------------------------------------------------------------------------------ roles

    async def role(self, name: str) -> Role:
        """The role from the registry, or a 404 (unknown) / 503 (file invalid) ApiError."""
        try:
            return await asyncio.to_thread(self.registry.get, name)
        except UnknownRoleError as exc:
            raise ApiError(
                404, "unknown_role", f"unknown role {exc.name!r}; see GET /api/roles", roles=exc.valid
            ) from None
        except InvalidRoleError:
            logger.warning("session refused: role %r has no valid version (see `roles check`)", name)
            raise ApiError(
                503, "role_unavailable", f"role {name!r} cannot be used right now (its file is invalid)"
            ) from None

    # ------------------------------------------------------------------------------------ start

    async def create(self, request: SessionRequest) -> SessionResponse:
        """Check role and vars, create the room, mint the token, dispatch the agent."""
        role = await self.role(request.role)
        try:
            role.render(request.vars)
        except RoleRenderError as exc:
            where = f"{exc.field}: " if exc.field else ""
            hint = f" ({exc.hint})" if exc.hint else ""
            raise ApiError(400, "invalid_vars", f"{where}{exc.message}{hint}", field=exc.field) from None

        room = f"{ROOM_PREFIX}{role.name}-{secrets.token_hex(6)}"
        identity = f"{IDENTITY_PREFIX}{secrets.token_hex(8)}"
        metadata = TokenMetadata(role=role.name, vars=request.vars)
        token = (
            api.AccessToken(self.settings.livekit_api_key, self.settings.livekit_api_secret)
            .with_identity(identity)
            .with_kind("standard")
            .with_grants(user_grants(room))
            .with_metadata(metadata.model_dump_json())
            .with_ttl(dt.timedelta(seconds=self.settings.token_ttl_s))
            .to_jwt()
        )
        try:
            await self.lk.room.create_room(
                api.CreateRoomRequest(name=room, empty_timeout=ROOM_EMPTY_TIMEOUT_S)
            )
            await self._dispatch(room, identity, metadata)
        except LIVEKIT_ERRORS as exc:
            raise livekit_unavailable(exc) from None
        logger.info("session %s: role %s for %s", room, role.name, identity)
        return SessionResponse(
            url=self.settings.public_livekit_url or self.settings.livekit_url,
            token=token,
            room=room,
            identity=identity,
            role=role.name,
            expires_at=_expires_at(token),
        )

    # ------------------------------------------------------------------------------------ re-dispatch

    def verify(self, authorization: str | None) -> tuple[str, str, TokenMetadata, float]:
        """Room, identity, metadata and issue time (`nbf`) of a session token in an `Authorization:
        Bearer` header. Its expiry is not checked here: a token outlives its TTL for re-dispatch
        (see `redispatch`)."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "unauthorized", "send the session token as 'Authorization: Bearer <token>'")
        try:
            raw = jwt.decode(
                token.strip(),
                key=self.settings.livekit_api_secret,
                issuer=self.settings.livekit_api_key,
                algorithms=["HS256"],
                leeway=TOKEN_LEEWAY.total_seconds(),
                options={"verify_signature": True, "verify_exp": False, "require": ["exp", "nbf"]},
            )
            claims = self._verifier.verify(token.strip(), verify_signature=False)
            issued = float(raw["nbf"])
        except Exception:  # PyJWT raises a family of errors; all mean the same to the caller
            raise ApiError(401, "invalid_token", "the session token is invalid or has expired") from None
        video = claims.video
        room = video.room if video is not None and video.room_join else ""
        identity = claims.identity
        if (
            not room.startswith(ROOM_PREFIX)
            or not identity.startswith(IDENTITY_PREFIX)
            or claims.kind not in ("", "standard")
        ):
            raise ApiError(401, "invalid_token", "this token was not issued by POST /api/session")
        try:
            metadata = TokenMetadata.model_validate(json.loads(claims.metadata))
        except (json.JSONDecodeError, ValidationError):
            raise ApiError(401, "invalid_token", "this token was not issued by POST /api/session") from None
        return room, identity, metadata, issued

    async def redispatch(self, authorization: str | None) -> str:
        """Dispatch the agent again into the token's room, unless an agent is already there.

        The page's token expires after `ROLECALL_TOKEN_TTL_S` (joining is then done), but its session
        may run for the role's `limits.max_duration_s`: the token stays good for re-dispatch until the
        longest session its role (or a role it hands off to) allows, plus `REDISPATCH_MARGIN_S`.
        """
        room, identity, metadata, issued = self.verify(authorization)
        role = await self.role(metadata.role)  # the allowlist may have changed since the token was minted
        usable_until = issued + await self._longest_session_s(role) + REDISPATCH_MARGIN_S
        if dt.datetime.now(dt.UTC).timestamp() > usable_until:
            raise ApiError(401, "invalid_token", "the session token is invalid or has expired")
        try:
            if await self._agent_present(room):
                raise ApiError(409, "agent_present", "an agent is already in this room")
            await self.lk.room.create_room(
                api.CreateRoomRequest(name=room, empty_timeout=ROOM_EMPTY_TIMEOUT_S)
            )
            # Drop dispatches that never produced a present agent, so repeated calls never pile up agents.
            for old in await self.lk.agent_dispatch.list_dispatch(room):
                if old.agent_name == self.settings.agent_name:
                    await self.lk.agent_dispatch.delete_dispatch(old.id, room)
            await self._dispatch(room, identity, metadata)
        except LIVEKIT_ERRORS as exc:
            raise livekit_unavailable(exc) from None
        logger.info("session %s: agent re-dispatched (role %s) for %s", room, metadata.role, identity)
        return room

    async def _longest_session_s(self, role: Role) -> float:
        """The longest `max_duration_s` of `role` and every role it can hand the session to."""
        seen, todo, longest = {role.name}, list(role.handoff_targets), role.limits.max_duration_s
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            try:
                target = await asyncio.to_thread(self.registry.get, name)
            except RoleError:
                continue
            longest = max(longest, target.limits.max_duration_s)
            todo.extend(target.handoff_targets)
        return longest

    async def _agent_present(self, room: str) -> bool:
        try:
            listing = await self.lk.room.list_participants(api.ListParticipantsRequest(room=room))
        except api.TwirpError as exc:
            if exc.code == api.TwirpErrorCode.NOT_FOUND:
                return False
            raise
        return any(p.kind == api.ParticipantInfo.Kind.AGENT for p in listing.participants)

    async def _dispatch(self, room: str, identity: str, metadata: TokenMetadata) -> None:
        request = DispatchRequest(role=metadata.role, vars=metadata.vars, participant=identity)
        await self.lk.agent_dispatch.create_dispatch(
            api.CreateAgentDispatchRequest(
                agent_name=self.settings.agent_name, room=room, metadata=request.to_metadata()
            )
        )


def _expires_at(token: str) -> str:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    expires = dt.datetime.fromtimestamp(int(claims["exp"]), tz=dt.UTC)
    return expires.isoformat().replace("+00:00", "Z")
