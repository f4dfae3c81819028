"""One job is one session of one role with one user. Read `entrypoint` top to bottom.

1. Role: resolve it from the dispatch metadata (an unknown role or bad variables: tell the user, end).
2. Model: open its connection now, so it is ready while the worker joins the room and finds the user.
3. Session: build it (`worker.session.assemble`, shared with evals) and start it in the room; serve
   the room (typed chat, nothing else: `worker.session.surface`).
4. User: wait for them, ask their page which frontend tools it implements, offer only those, greet.
5. Run: until the lifecycle ends the session (`worker.session.lifecycle`: `end_session`, a limit, the user
   gone for the grace period, the model lost, the worker shutting down).
6. Report: when the job shuts down, whatever ended it: the role's post-call analysis, the log, and the
   session's spool file, from which the worker's main process delivers it (`worker.session.reporting`;
   the session checkpoints into that file from step 3 on, so a job process that dies is reported too).

Why the report is step 6 and runs from the job's shutdown rather than after an `await` at the end of
`entrypoint`: livekit-agents runs shutdown callbacks on every end of a job, including the worker's drain
limit, but it waits up to 15 s for an entrypoint still running before it cancels it; an entrypoint that
awaited the end would hold a draining worker that long and lose its report when cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from typing import Any

from livekit.agents import AgentSession, JobContext, room_io
from livekit.agents.voice.events import CloseEvent, ErrorEvent

from worker.continuity import TranscriptSaver, summary_from_metadata
from worker.dispatch import DispatchError, DispatchRequest
from worker.job import PREWARMED_REGISTRY
from worker.preopen import PREOPENED, Preopened
from worker.protocol import AgentErrorCode
from worker.realtime import build_model, input_frame_ms
from worker.roles import InvalidRoleError, RenderedRole, Role, RoleError, RoleRegistry
from worker.session.assemble import build_session
from worker.session.context import SessionContext
from worker.session.control import ControlReceiver
from worker.session.observe import SessionObserver
from worker.session.pre_connect import PreConnectAudio
from worker.session.reporting import open_spool, report
from worker.session.room import (
    connect,
    discover_tools,
    follow_the_user,
    refuse,
    serve_the_room,
    wait_for_user,
)
from worker.session.running import enforce_limits, live_reload
from worker.settings import Settings
from worker.tools.egress import EgressPolicy, client_session
from worker.tools.handoff import quoted_note

logger = logging.getLogger("rolecall.session")

MODEL_ERROR_LINGER_S = 0.5
"""How long the agent stays after telling the page the model is lost, so the page receives it."""
MODEL_LOST = "The voice model connection was lost and could not be restored. Please start a new session."


async def entrypoint(job: JobContext) -> None:
    """Run one session (see the module docstring for the steps)."""
    settings = Settings.load()
    observer = SessionObserver(settings, room=job.room.name, job_id=job.job.id, metadata=job.job.metadata)
    try:
        await _run(job, settings, observer)
    finally:
        observer.leave()


async def _run(job: JobContext, settings: Settings, observer: SessionObserver) -> None:
    registry = registry_for(job, settings)
    log_extra: dict[str, Any] = {"room": job.room.name, "job_id": job.job.id}

    # 1. Role.
    with observer.resolving():
        resolved = await resolve(job, settings, registry, log_extra, observer)
    if resolved is None:
        return
    request, role, rendered = resolved.request, resolved.role, resolved.rendered
    log_extra["role"] = role.name
    observer.role_resolved(role.name)

    # 2. Model (Realtime, or GPT-Live for `api: live`), opening while the room connects and the user arrives.
    preopened = job.proc.userdata.get(PREOPENED)  # a connection the idle process opened: no handshake
    model = build_model(role, settings, preopened.take if isinstance(preopened, Preopened) else None)
    model.open_early()
    job.add_shutdown_callback(model.aclose)
    pre_connect = pre_connect_audio(job, role, request.participant, log_extra)  # held from before we join
    await connect(job)
    user = request.participant or await wait_for_user(job, None, settings.participant_timeout_s)
    if user is None:
        logger.warning(
            "no user joined within %.0f s; ending", settings.participant_timeout_s, extra=log_extra
        )
        observer.refused("no_user")
        job.shutdown("no participant")
        return
    log_extra["participant"] = user

    # 3. Session, in the room.
    http = client_session(EgressPolicy.from_settings(settings))  # http tools: public addresses only
    job.add_shutdown_callback(http.close)
    earlier = request.summary or summary_from_metadata(job.room.metadata)  # an agent before us died
    resuming = "You are resuming a conversation an earlier agent had with this user."
    built = build_session(
        role,
        rendered,
        model=model,
        settings=settings,
        registry=registry,
        participant=user,
        session_id=f"{job.room.name}:{job.job.id}",
        variables=request.vars,
        http=http,
        rpc=job.room.local_participant,
        room=job.room,
        arrival_note=quoted_note(resuming, earlier) if earlier else "",
        log_extra=log_extra,
    )
    session, agent, ctx = built.session, built.agent, built.ctx
    spool = open_spool(ctx, role)  # from here on, every line is on disk as it comes
    # The app backend's live events (`worker.events`), when it asked for them: from the same pieces.
    ctx.app_events.open(settings, session_id=ctx.session_id, room=job.room.name, report_id=spool.event_id)
    ctx.record.journal = ctx.app_events.tee(ctx.record.journal)
    ctx.page.listener = ctx.app_events.page_event
    saver = TranscriptSaver(job.api, job.room.name, ctx.record, job.room.metadata)
    session.on("conversation_item_added", lambda _: saver.changed())
    job.add_shutdown_callback(saver.aclose)
    job.add_shutdown_callback(lambda reason: report(ctx, settings, reason, spool, observer))  # step 6
    watch_for_the_end(job, session, ctx, observer)
    if pre_connect is not None:
        pre_connect.step_aside()  # livekit-agents registers its handler as the session starts
    await session.start(
        agent,
        room=job.room,
        room_options=room_io.RoomOptions(
            participant_identity=user,
            close_on_disconnect=False,
            audio_input=room_io.AudioInputOptions(
                frame_size_ms=input_frame_ms(settings),
                auto_gain_control=settings.auto_gain_control,
                # off unless the role asks: one byte-stream topic fewer to serve
                pre_connect_audio=pre_connect is not None,
            ),
            text_input=False,  # typed chat is served by `worker.session.chat`, capped
        ),
        record=False,
        # livekit-agents' session host answers anyone in the room on `lk.agent.session` with the
        # rendered instructions, the chat history and injected turns: never on for a user's room.
        session_host=False,
    )
    observer.session_started(session)
    ctx.app_events.started(
        role=role.name, role_version=role.version, participant=user, model=ctx.record.model
    )
    if pre_connect is not None:
        pre_connect.take_over()
        job.add_shutdown_callback(pre_connect.aclose)
    await serve_the_room(job, session, ctx, settings, built.events, pre_connect_audio=pre_connect is not None)
    control = ControlReceiver(job.room, session, ctx, built.events, ctx.app_events)  # the app backend's
    control.start()

    # 4. User, their page's tools, the greeting.
    follow_the_user(job, session, ctx, settings.disconnect_grace_s)
    if await wait_for_user(job, user, settings.participant_timeout_s) is None:
        logger.warning("user %s did not join; ending", user, extra=log_extra)
        ctx.lifecycle.end("user_absent")
        return
    await discover_tools(agent)
    if settings.live_reload:
        ctx.lifecycle.spawn(live_reload(registry, session, ctx), name="rolecall.live_reload")
    ctx.lifecycle.spawn(enforce_limits(session, ctx), name="rolecall.limits")
    if user in job.room.remote_participants:
        observer.greeting()
        agent.greet_now()  # a user gone already gets no greeting; the grace timer decides the rest

    # 5. Run: the conversation goes on in livekit-agents; `watch_for_the_end` ends the job.


# --- the steps' helpers, in the order the flow uses them ----------------------------------------------


def registry_for(job: JobContext, settings: Settings) -> RoleRegistry:
    """The registry prewarmed in this process, or a new one."""
    registry = job.proc.userdata.get(PREWARMED_REGISTRY)
    if isinstance(registry, RoleRegistry) and registry.roles_dir == os.path.abspath(settings.roles_dir):
        return registry
    return RoleRegistry(settings.roles_dir, policy=settings.role_policy())


@dataclass(frozen=True)
class Resolved:
    """What the dispatch asks for, checked: the request, its role, the role's rendered text."""

    request: DispatchRequest
    role: Role
    rendered: RenderedRole


async def resolve(
    job: JobContext,
    settings: Settings,
    registry: RoleRegistry,
    log_extra: dict[str, Any],
    observer: SessionObserver,
) -> Resolved | None:
    """The dispatch's role with its variables; or None after telling the user why there is none."""
    try:
        request = DispatchRequest.parse(job.job.metadata)
        name = request.role or settings.default_role
        if not name:
            raise DispatchError("the dispatch names no role and ROLECALL_DEFAULT_ROLE is not set")
        role = registry.get(name)
        return Resolved(request, role, role.render(request.vars))
    except (DispatchError, RoleError) as exc:
        # The page gets the reason without server paths; the log gets the full error.
        code: AgentErrorCode = "bad_dispatch"
        message = str(exc)
        if isinstance(exc, InvalidRoleError):  # its message quotes file paths: the log only
            code, message = "role_error", f"role {exc.name!r} cannot be used right now (its file is invalid)"
        elif isinstance(exc, RoleError):
            code = "unknown_role" if exc.field == "role" else "role_error"
            message = exc.message + (f" ({exc.hint})" if exc.hint else "")
        logger.error("refusing job: %s", exc, extra={**log_extra, "code": code})
        observer.refused(code)
        user = _named_user(job.job.metadata)
        await refuse(job, user, code, message, wait_s=settings.participant_timeout_s)
        return None


def pre_connect_audio(
    job: JobContext, role: Role, participant: str | None, log_extra: dict[str, Any]
) -> PreConnectAudio | None:
    """The user's pre-connect audio buffer, held from now, for a role that asks for it."""
    if not role.model.pre_connect_audio:
        return None
    if not participant:
        logger.warning("pre_connect_audio is off: the dispatch names no participant", extra=log_extra)
        return None
    held = PreConnectAudio(job.room, participant, log_extra=log_extra)
    held.listen()
    return held


def _named_user(metadata: str) -> str | None:
    """The participant the dispatch names, even when the rest of it is unusable."""
    try:
        return DispatchRequest.parse(metadata).participant or None
    except DispatchError:
        return None


def watch_for_the_end(
    job: JobContext, session: AgentSession[Any], ctx: SessionContext, observer: SessionObserver
) -> None:
    """End the job when the session closes, or when the model connection is lost for good.

    livekit-agents 1.8.9 may never emit `close` after an unrecoverable model error, so `error` events
    are watched too: the page is told, and the job ends.
    """
    model_lost = False

    @session.on("close")
    def _closed(ev: CloseEvent) -> None:
        reason = ctx.lifecycle.closed(ev.reason.value)
        if model_lost:  # livekit-agents closes the session on a fatal model error; the page is told first
            return
        job.shutdown(reason)

    @session.on("error")
    def _error(ev: ErrorEvent) -> None:
        nonlocal model_lost
        err = ev.error
        recoverable = getattr(err, "recoverable", True)
        detail = str(getattr(err, "error", None) or err)[:300]
        logger.warning("session error (recoverable=%s): %s", recoverable, detail, extra=ctx.log_extra)
        observer.model_error(recoverable=bool(recoverable))
        if recoverable or model_lost:
            return
        model_lost = True
        decided = ctx.lifecycle.claim("model_error")

        async def stop() -> None:
            if decided:  # the provider's own words (quota, organisation, ids) stay in the log above
                await ctx.page.report_error("model_unavailable", MODEL_LOST)
            ctx.lifecycle.stop(drain=False)
            await asyncio.sleep(MODEL_ERROR_LINGER_S)
            job.shutdown("model_error")

        ctx.lifecycle.spawn(stop(), name="rolecall.model_lost")
