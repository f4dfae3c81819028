"""Session start and re-dispatch: the only code that mints tokens and creates agent dispatches.

A session is one fresh room per page, one user identity, one token and one explicit dispatch of agent
`Settings.agent_name` whose metadata is a `worker.dispatch.DispatchRequest`. The browser picks only the
role (checked against the registry, an allowlist) and its variables (checked by rendering the role).

The token doubles as the credential for re-dispatch: its claims (room, identity, and the role and vars in
its participant metadata) are protected by the JWT signature, so a re-dispatch can only ever bring the
same role back into the same room for the same user.

Admission (`worker.web.admission`): a start takes a token of the caller's per-client buckets, then a
place under the global cap; a re-dispatch is single-flight per room and spaced per room.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
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
from worker.tracing import carrier
from worker.web.admission import PENDING_MARGIN_S, KeyedLocks, SessionCount, TokenBucket, too_many
from worker.web.auth import Caller
from worker.web.errors import ApiError
from worker.web.models import SessionRequest, SessionResponse, TokenMetadata, VarValue

logger = logging.getLogger("rolecall.web")

ROOM_PREFIX = "rolecall-"
IDENTITY_PREFIX = "user-"
ROOM_EMPTY_TIMEOUT_S = 300
"""A session room closes this long after its last participant left (or if nobody ever joins)."""
TOKEN_LEEWAY = dt.timedelta(seconds=5)
"""Clock skew tolerated when verifying a token (livekit-api's default is a minute)."""
REDISPATCH_MARGIN_S = 300
"""How long after a session's longest possible end its token may still bring the agent back."""
DISPATCH_SETTLE_S = 5.0
"""A dispatch younger than this is on its way: re-dispatch leaves it. Long enough to cover a double
click or calls racing on several replicas (milliseconds apart); short enough that a page asking again
once its agent has come and gone (join, leave, the page notices, the user clicks) gets a new one."""
ENDED_JOB = (api.JobStatus.JS_SUCCESS, api.JobStatus.JS_FAILED, api.JobStatus.JS_CANCELLED)
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
        per_minute, burst = settings.web_sessions_per_minute, settings.web_session_burst
        self.clients = TokenBucket(per_minute / 60, burst) if per_minute else None
        self.count = SessionCount(lk, settings.participant_timeout_s + PENDING_MARGIN_S)
        self.redispatches = TokenBucket(1 / settings.web_redispatch_interval_s, 1)
        self._rooms = KeyedLocks()

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

    async def create(self, request: SessionRequest, caller: Caller) -> SessionResponse:
        """Check what the caller may ask for, role and vars, then admission (429); create the room,
        mint the token, dispatch the agent."""
        user, vars = caller.terms(request)
        role = await self.role(request.role)
        try:
            role.render(vars)
        except RoleRenderError as exc:
            where = f"{exc.field}: " if exc.field else ""
            hint = f" ({exc.hint})" if exc.hint else ""
            raise ApiError(400, "invalid_vars", f"{where}{exc.message}{hint}", field=exc.field) from None

        self._take_client_tokens(caller)
        created = False
        try:
            cap = self.settings.web_max_sessions
            async with self.count.slot(cap) if cap else _uncapped() as started:
                session = await self._start(role, user, vars)
                started()
                created = True
        except LIVEKIT_ERRORS as exc:  # the room listing behind the global cap
            raise livekit_unavailable(exc) from None
        finally:
            if not created and self.clients is not None:
                for key in caller.rate_keys:  # nothing was started: the attempt costs the client nothing
                    self.clients.give_back(key)
        logger.info(
            "session %s: role %s for %s (%s)", session.room, role.name, session.identity, caller.address
        )
        return session

    def _take_client_tokens(self, caller: Caller) -> None:
        if self.clients is None or not caller.rate_keys:
            return
        wait = max(self.clients.wait_s(key) for key in caller.rate_keys)
        if wait:
            raise too_many("rate_limited", "too many sessions started from here", wait)
        for key in caller.rate_keys:
            self.clients.take(key)

    async def _start(self, role: Role, user: str | None, vars: dict[str, VarValue]) -> SessionResponse:
        room = f"{ROOM_PREFIX}{role.name}-{secrets.token_hex(6)}"
        identity = f"{IDENTITY_PREFIX}{user or secrets.token_hex(8)}"
        metadata = TokenMetadata(role=role.name, vars=vars)
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
        return SessionResponse(
            url=self.settings.public_livekit_url or self.settings.livekit_url,
            token=token,
            room=room,
            identity=identity,
            role=role.name,
            expires_at=_expires_at(token),
            pre_connect_audio=role.model.pre_connect_audio,
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
        """Make sure an agent is on its way into the token's room: exactly one, whatever the number of
        concurrent calls.

        The page's token expires after `ROLECALL_TOKEN_TTL_S` (joining is then done), but its session
        may run for the role's `limits.max_duration_s`: the token stays good for re-dispatch until the
        longest session its role (or a role it hands off to) allows, plus `REDISPATCH_MARGIN_S`.

        Single flight: calls for one room take turns on a lock, which covers this process only. What
        covers several web replicas is the check in LiveKit: a dispatch younger than `DISPATCH_SETTLE_S`
        whose agent has not joined yet is left alone and the call answers 200 without a new one. A new
        dispatch replaces the old ones at most once per `ROLECALL_WEB_REDISPATCH_INTERVAL_S` (429).
        """
        room, identity, metadata, issued = self.verify(authorization)
        role = await self.role(metadata.role)  # the allowlist may have changed since the token was minted
        usable_until = issued + await self._longest_session_s(role) + REDISPATCH_MARGIN_S
        if dt.datetime.now(dt.UTC).timestamp() > usable_until:
            raise ApiError(401, "invalid_token", "the session token is invalid or has expired")
        async with self._rooms.hold(room):
            try:
                if await self._agent_present(room):
                    raise ApiError(409, "agent_present", "an agent is already in this room")
                await self.lk.room.create_room(
                    api.CreateRoomRequest(name=room, empty_timeout=ROOM_EMPTY_TIMEOUT_S)
                )
                ours = [
                    d
                    for d in await self.lk.agent_dispatch.list_dispatch(room)
                    if d.agent_name == self.settings.agent_name
                ]
                if any(_on_its_way(d) for d in ours):
                    logger.info("session %s: an agent is already on its way", room)
                    return room
                wait = self.redispatches.take(room)
                if wait:
                    raise too_many("rate_limited", "the agent was sent to this room moments ago", wait)
                try:
                    # Drop dispatches that never produced a present agent, so calls never pile up agents.
                    for old in ours:
                        await self._delete_dispatch(old.id, room)
                    await self._dispatch(room, identity, metadata)
                except BaseException:
                    self.redispatches.give_back(room)  # nothing was sent: the page may try again at once
                    raise
            except LIVEKIT_ERRORS as exc:
                raise livekit_unavailable(exc) from None
        logger.info("session %s: agent re-dispatched (role %s) for %s", room, metadata.role, identity)
        return room

    async def _delete_dispatch(self, dispatch_id: str, room: str) -> None:
        try:
            await self.lk.agent_dispatch.delete_dispatch(dispatch_id, room)
        except api.TwirpError as exc:
            if exc.code != api.TwirpErrorCode.NOT_FOUND:  # gone already is what we wanted
                raise

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
        request = DispatchRequest(
            role=metadata.role, vars=metadata.vars, participant=identity, trace=carrier()
        )
        await self.lk.agent_dispatch.create_dispatch(
            api.CreateAgentDispatchRequest(
                agent_name=self.settings.agent_name, room=room, metadata=request.to_metadata()
            )
        )


def _on_its_way(dispatch: api.AgentDispatch) -> bool:
    """A dispatch made moments ago whose agent has not joined (nor its job ended) yet."""
    age_s = time.time() - dispatch.state.created_at / 1e9  # LiveKit stamps it in nanoseconds
    if age_s > DISPATCH_SETTLE_S:
        return False
    # livekit-server 1.13.5 lists no jobs here, so the age decides; a server that does list them
    # tells us more.
    return not any(
        job.state.participant_identity or job.state.status in ENDED_JOB for job in dispatch.state.jobs
    )


@asynccontextmanager
async def _uncapped() -> AsyncIterator[Callable[[], None]]:
    yield lambda: None


def _expires_at(token: str) -> str:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    expires = dt.datetime.fromtimestamp(int(claims["exp"]), tz=dt.UTC)
    return expires.isoformat().replace("+00:00", "Z")
