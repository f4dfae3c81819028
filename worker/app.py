"""The worker: one job is one session of one role with one user. Read `entrypoint` top to bottom.

1. Resolve the role from the dispatch metadata (an unknown role or bad variables: tell the user, end).
2. Open the model connection, and while it opens connect to the room and start the AgentSession,
   which takes that connection over (greeting latency).
3. Wait for the user, ask their page which frontend tools it implements, offer only those, greet.
4. Run until the session closes: the user says goodbye (`end_session`), leaves for longer than the
   grace period, the session outlives its limits, or the model connection is lost for good.
5. Write the session report to the log and, when configured, to the app backend's webhook.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import time
from typing import Any

import aiohttp
from livekit import rtc
from livekit.agents import (
    AgentServer,
    AgentSession,
    JobContext,
    JobExecutorType,
    JobProcess,
    JobRequest,
    room_io,
)
from livekit.agents.llm import ChatMessage
from livekit.agents.metrics import LLMModelUsage
from livekit.agents.voice.events import (
    CloseEvent,
    ConversationItemAddedEvent,
    ErrorEvent,
    SessionUsageUpdatedEvent,
    UserInputTranscribedEvent,
)
from livekit.agents.worker import ServerEnvOption

from worker._livekit_compat import WORKER_SHUTDOWN_REASON, operator_session_host
from worker.agent import RoleAgent, quoted_note
from worker.chat import ChatInput
from worker.continuity import TranscriptSaver, summary_from_metadata
from worker.dispatch import DispatchError, DispatchRequest
from worker.health import RoleCallServer
from worker.model import build_realtime_model, input_frame_ms
from worker.notify import report_error, send_event
from worker.pricing import Price, PriceTableError, Usage, estimate_cost, load_prices
from worker.report import SessionRecord, log_report, post_report
from worker.roles import InvalidRoleError, Role, RoleChange, RoleError, RoleRegistry
from worker.runtime import SessionRuntime
from worker.settings import Settings
from worker.surface import allowed_surface, enforce_surface
from worker.tools.egress import EgressPolicy, client_session
from worker.tools.frontend import FrontendBridge, reconcile

logger = logging.getLogger("rolecall.session")

LIMIT_CHECK_INTERVAL_S = 1.0
GOODBYE_GRACE_S = 8.0
"""How long the agent may take to say goodbye when a limit ends the session."""
REFUSAL_LINGER_S = 2.0
"""How long a refused job stays in the room so the page receives the reason."""


PROCESS_START_TIMEOUT_S = 60.0
"""How long a new job process may take to start and prewarm. livekit-agents gives 10 s and then kills
it; on a saturated machine starting a process takes longer (`make soak` at 20 sessions on 2 cores:
"error initializing process", and a user who is never greeted)."""
PROCESS_SHUTDOWN_TIMEOUT_S = 30.0
"""How long a job process may take to end: the session report and its webhook POST happen then
(livekit-agents gives 10 s)."""


LIVEKIT_TARGET_LOAD = 0.7
"""livekit-server stops sending jobs to a worker whose reported load reaches this (its default)."""


def build_server(settings: Settings, *, devmode: bool) -> RoleCallServer:
    """The livekit-agents server that runs `entrypoint` for every dispatch to our agent name.

    The load reported to LiveKit is active sessions over `max_sessions`, scaled to LiveKit's target
    load, rather than livekit-agents' default of machine-wide CPU: on a shared machine (LiveKit
    itself beside the worker) a CPU spike would otherwise make the server hold dispatches back for
    its 20 s retry although the worker has room.

    RoleCall's health endpoint (`worker.health`) takes `health_port` under `start` (a free port under
    `dev`); livekit-agents' own, which stays OK while LiveKit is unreachable, moves to a free port.
    """

    def session_load(server: AgentServer) -> float:
        return min(1.0, LIVEKIT_TARGET_LOAD * len(server.active_jobs) / settings.max_sessions)

    server = RoleCallServer(
        health_host=settings.health_host,
        health_port=0 if devmode else settings.health_port,
        max_sessions=settings.max_sessions,
        session_weight=LIVEKIT_TARGET_LOAD / settings.max_sessions,
        load_fnc=session_load,
        load_threshold=ServerEnvOption(dev_default=math.inf, prod_default=LIVEKIT_TARGET_LOAD),
        ws_url=settings.livekit_url,
        api_key=settings.livekit_api_key,
        api_secret=settings.livekit_api_secret,
        port=0,
        max_retry=settings.livekit_max_retry,
        drain_timeout=settings.drain_timeout_s,
        # One warm job process in dev too: a dispatch need not wait for a process to start.
        num_idle_processes=1 if devmode else settings.idle_processes,
        setup_fnc=prewarm,
        job_executor_type=JobExecutorType(settings.job_executor),
        initialize_process_timeout=PROCESS_START_TIMEOUT_S,
        shutdown_process_timeout=PROCESS_SHUTDOWN_TIMEOUT_S,
    )
    server.rtc_session(entrypoint, agent_name=settings.agent_name, on_request=accept_job)
    watcher: dict[str, asyncio.Task[None]] = {}
    server.once(
        "worker_started", lambda: watcher.setdefault("task", asyncio.create_task(watch_roles(settings)))
    )
    return server


async def watch_roles(settings: Settings) -> None:
    """In the worker's own process: load every saved edit and log what it did to each role.

    Each valid version this loads goes into the store shared with job processes (see
    `worker.roles._last_valid`), so a session started after an invalid edit still gets the last valid
    version; each invalid edit is logged with its errors (by the registry) as soon as it is saved.
    """
    registry = RoleRegistry(settings.roles_dir, policy=settings.role_policy())
    try:
        async for change in registry.watch():
            if change.removed:
                logger.warning("role %s was deleted: new sessions cannot use it", change.name)
            elif change.ok:
                logger.info(
                    "role %s: version saved at %s in use for new sessions", change.name, _saved(change)
                )
    except Exception:  # a broken watcher must not take the worker down; sessions still read the files
        logger.exception("watching %s for role edits failed", settings.roles_dir)


def prewarm(proc: JobProcess) -> None:
    """Load every role in the idle job process, so that a job's lookup costs a few `stat`s, not a parse.

    The registry is stat-based, so a role edited after this still reaches the job (measured with
    `make bench`: a cold lookup is about 25 ms on the greeting's critical path).
    """
    try:
        loaded = Settings.load()
        registry = RoleRegistry(loaded.roles_dir, policy=loaded.role_policy())
        for name in registry.names():
            with contextlib.suppress(RoleError):
                registry.get(name)
    except Exception:  # the job reports any real problem itself; prewarming is only an optimisation
        logger.exception("could not prewarm the role registry")
        return
    proc.userdata[_REGISTRY] = registry


_REGISTRY = "rolecall.registry"


def _registry(ctx: JobContext, settings: Settings) -> RoleRegistry:
    """The registry prewarmed in this process, or a new one."""
    registry = ctx.proc.userdata.get(_REGISTRY)
    if isinstance(registry, RoleRegistry) and registry.roles_dir == os.path.abspath(settings.roles_dir):
        return registry
    return RoleRegistry(settings.roles_dir, policy=settings.role_policy())


def _saved(change: RoleChange) -> str:
    assert change.role is not None
    newest = max((os.stat(f).st_mtime for f in change.role.files if os.path.exists(f)), default=0.0)
    return time.strftime("%H:%M:%S", time.localtime(newest))


async def accept_job(request: JobRequest) -> None:
    """Accept every dispatch; a bad role is reported inside the room, where the user can see it."""
    await request.accept(name="RoleCall agent", identity=f"agent-{request.id}")


async def entrypoint(ctx: JobContext) -> None:
    """Run one session (see the module docstring for the steps)."""
    settings = Settings.load()
    registry = _registry(ctx, settings)
    log_extra = {"room": ctx.room.name, "job_id": ctx.job.id}

    # 1. Which role, with which variables, for whom.
    try:
        request = DispatchRequest.parse(ctx.job.metadata)
        role_name = request.role or settings.default_role
        if not role_name:
            raise DispatchError("the dispatch names no role and ROLECALL_DEFAULT_ROLE is not set")
        role = registry.get(role_name)
        rendered = role.render(request.vars)
    except (DispatchError, RoleError) as exc:
        # The page gets the reason without server paths; the log gets the full error.
        code, message = "bad_dispatch", str(exc)
        if isinstance(exc, InvalidRoleError):  # its message quotes file paths: the log only
            code, message = "role_error", f"role {exc.name!r} cannot be used right now (its file is invalid)"
        elif isinstance(exc, RoleError):
            code = "unknown_role" if exc.field == "role" else "role_error"
            message = exc.message + (f" ({exc.hint})" if exc.hint else "")
        logger.error("refusing job: %s", exc, extra={**log_extra, "code": code})
        await _refuse(ctx, settings, request_participant(ctx.job.metadata), code, message)
        return
    log_extra["role"] = role.name

    # 2. Model and room, as early as possible: the model connection opens while the room connects.
    model = build_realtime_model(role, settings)
    model.open_early()
    ctx.add_shutdown_callback(model.aclose)
    await ctx.connect(auto_subscribe=_audio_only())
    # The realtime model detects turns itself (server or semantic VAD): no local VAD or turn model.
    session: AgentSession[Any] = AgentSession(
        llm=model, vad=None, turn_handling={"turn_detection": "realtime_llm"}, user_away_timeout=None
    )
    http = client_session(EgressPolicy.from_settings(settings))  # http tools: public addresses only
    ctx.add_shutdown_callback(http.close)
    first = request.participant or await _first_user(ctx, settings.participant_timeout_s)
    if first is None:
        logger.warning(
            "no user joined within %.0f s; ending", settings.participant_timeout_s, extra=log_extra
        )
        ctx.shutdown("no participant")
        return
    participant_identity: str = first
    log_extra["participant"] = participant_identity
    rt = SessionRuntime(
        settings=settings,
        registry=registry,
        room=ctx.room,
        participant=participant_identity,
        session_id=f"{ctx.room.name}:{ctx.job.id}",
        variables=dict(request.vars),
        http=http,
        record=SessionRecord(
            session_id=f"{ctx.room.name}:{ctx.job.id}",
            room=ctx.room.name,
            participant=participant_identity,
            role=role.name,
            model=role.model.name,
        ),
        bridge=FrontendBridge(ctx.room.local_participant, participant_identity),
        session=session,
        log_extra=log_extra,
    )
    saver = TranscriptSaver(ctx.api, ctx.room.name, rt.record, ctx.room.metadata)
    ctx.add_shutdown_callback(saver.aclose)
    record_conversation(session, rt, saver)
    ended = _watch_for_the_end(ctx, session, rt)
    ctx.add_shutdown_callback(lambda reason: _finish(rt, settings, reason, ended))

    # A replacement agent (the previous one's worker died) continues the conversation it finds.
    earlier = request.summary or summary_from_metadata(ctx.room.metadata)
    note = (
        quoted_note("You are resuming a conversation an earlier agent had with this user.", earlier)
        if earlier
        else ""
    )
    agent = RoleAgent(role, rendered, rt, arrival_note=note, greet=False)
    await session.start(
        agent,
        room=ctx.room,
        room_options=room_io.RoomOptions(
            participant_identity=participant_identity,
            close_on_disconnect=False,
            audio_input=room_io.AudioInputOptions(
                frame_size_ms=input_frame_ms(settings),
                auto_gain_control=settings.auto_gain_control,
                pre_connect_audio=False,  # no page sends it; one byte-stream topic fewer to serve
            ),
            text_input=False,  # typed chat is served by `worker.chat`, capped
        ),
        record=False,
        # livekit-agents' session host answers anyone in the room on `lk.agent.session` with the
        # rendered instructions, the chat history and injected turns: never on for a user's room.
        session_host=False,
    )
    await _serve_the_room(ctx, session, rt, settings)

    # 3. The user, their page's tools, the greeting.
    _follow_the_user(ctx, agent, rt, settings)
    try:
        await asyncio.wait_for(
            ctx.wait_for_participant(identity=participant_identity), settings.participant_timeout_s
        )
    except TimeoutError:
        logger.warning("user %s did not join; ending", participant_identity, extra=log_extra)
        session.shutdown(drain=False)
        return
    await _discover_tools(agent, rt, role)
    if settings.live_reload:
        _track(rt, asyncio.create_task(_live_reload(registry, session, rt)))
    _track(rt, asyncio.create_task(_enforce_limits(session, rt)))
    if rt.participant in ctx.room.remote_participants:
        agent.greet_now()  # a user gone already gets no greeting; the grace timer decides the rest


# --- helpers, in the order the flow uses them ------------------------------------------------------


async def _serve_the_room(
    ctx: JobContext, session: AgentSession[Any], rt: SessionRuntime, settings: Settings
) -> None:
    """Typed chat (capped), the operator's session host if configured, and nothing else.

    What the agent participant serves is then checked against `worker.surface`'s allowlist, so a
    handler a framework upgrade adds by default is logged and removed rather than silently reachable.
    """

    async def refuse(reason: str, message: str) -> None:
        await send_event(
            rt.local, {"type": "input_refused", "reason": reason, "message": message}, to=rt.participant
        )

    chat = ChatInput(ctx.room, session, rt.participant, refuse, rt.log_extra)
    chat.start()
    ctx.add_shutdown_callback(chat.aclose)
    host = settings.session_host_identity
    if host and host != rt.participant:
        operator = operator_session_host(ctx.room, host, session)
        await operator.start()
        ctx.add_shutdown_callback(operator.aclose)
        logger.info("session host serves %s only", host, extra=rt.log_extra)
    enforce_surface(ctx.room, allowed_surface(session_host=bool(host)), rt.log_extra)


def request_participant(metadata: str) -> str | None:
    """The participant named in the metadata, even when the rest of it is unusable."""
    try:
        return DispatchRequest.parse(metadata).participant or None
    except DispatchError:
        return None


async def _refuse(
    ctx: JobContext, settings: Settings, participant: str | None, code: str, message: str
) -> None:
    """Tell the user why there is no session, then leave."""
    await ctx.connect(auto_subscribe=_audio_only())
    if participant is None:
        participant = await _first_user(ctx, min(settings.participant_timeout_s, 10.0))
    else:
        try:
            await asyncio.wait_for(
                ctx.wait_for_participant(identity=participant), min(settings.participant_timeout_s, 10.0)
            )
        except TimeoutError:
            participant = None
    await report_error(ctx.room.local_participant, code, message, to=participant)
    await asyncio.sleep(REFUSAL_LINGER_S)
    ctx.shutdown(code)


def _audio_only() -> Any:
    from livekit.agents import AutoSubscribe

    return AutoSubscribe.AUDIO_ONLY


async def _first_user(ctx: JobContext, timeout_s: float) -> str | None:
    try:
        p = await asyncio.wait_for(ctx.wait_for_participant(), timeout_s)
    except TimeoutError:
        return None
    return p.identity


def record_conversation(
    session: AgentSession[Any], rt: SessionRuntime, saver: TranscriptSaver | None = None
) -> None:
    """Keep every finished utterance and each response's token usage in the session record.

    Also used by `python -m worker eval`, which has no room and so no `saver`.
    """

    @session.on("conversation_item_added")
    def _item(ev: ConversationItemAddedEvent) -> None:
        item = ev.item
        if isinstance(item, ChatMessage) and item.role in ("user", "assistant"):
            rt.record.add_line(
                "user" if item.role == "user" else "agent",
                item.text_content or "",
                interrupted=item.interrupted,
            )
            if saver is not None:
                saver.changed()
            if item.role == "user":
                rt.tool_calls_this_turn = 0
                rt.last_user_activity = time.monotonic()

    @session.on("user_input_transcribed")
    def _transcribed(ev: UserInputTranscribedEvent) -> None:
        rt.last_user_activity = time.monotonic()
        if ev.is_final:
            rt.tool_calls_this_turn = 0

    @session.on("session_usage_updated")
    def _usage(ev: SessionUsageUpdatedEvent) -> None:
        # Cumulative per model: the record keeps the latest totals of the LLM (realtime) usage.
        total = Usage()
        for u in ev.usage.model_usage:
            if isinstance(u, LLMModelUsage):
                total.add(
                    Usage(
                        text_in=u.input_text_tokens,
                        text_in_cached=u.input_cached_text_tokens,
                        audio_in=u.input_audio_tokens,
                        audio_in_cached=u.input_cached_audio_tokens,
                        text_out=u.output_text_tokens,
                        audio_out=u.output_audio_tokens,
                    )
                )
        rt.record.usage = total


def _watch_for_the_end(ctx: JobContext, session: AgentSession[Any], rt: SessionRuntime) -> dict[str, str]:
    """End the job when the session closes or the model connection is lost for good.

    livekit-agents 1.8.9 may never emit `close` after an unrecoverable model error, so `error`
    events are watched too. Returns a dict that receives the end reason.
    """
    ended: dict[str, str] = {}

    @session.on("close")
    def _closed(ev: CloseEvent) -> None:
        ended.setdefault("reason", rt.ending or ev.reason.value)
        ctx.shutdown(ended["reason"])

    @session.on("error")
    def _error(ev: ErrorEvent) -> None:
        err = ev.error
        recoverable = getattr(err, "recoverable", True)
        logger.warning("session error (recoverable=%s): %s", recoverable, _describe(err), extra=rt.log_extra)
        if recoverable or "reason" in ended:
            return
        ended["reason"] = "model_error"
        # The provider's own text (quota, organisation, request ids) stays in the log above.
        message = "The voice model connection was lost and could not be restored. Please start a new session."

        async def stop() -> None:
            await report_error(rt.local, "model_unavailable", message, to=rt.participant)
            session.shutdown(drain=False)
            await asyncio.sleep(0.5)
            ctx.shutdown("model_error")

        _track(rt, asyncio.create_task(stop()))

    return ended


def _describe(err: Any) -> str:
    inner = getattr(err, "error", None)
    return str(inner or err)[:300]


async def _discover_tools(agent: RoleAgent, rt: SessionRuntime, role: Role) -> None:
    """Ask the page which frontend tools it implements; offer the model only those."""
    from worker.roles import FrontendTool

    rt.implemented = await rt.bridge.discover()
    declared = [t.method for t in role.tools if isinstance(t, FrontendTool)]
    _offered, missing, extra = reconcile(declared, rt.implemented)
    if missing:
        logger.warning(
            "the page does not implement %s; not offering them to the model", missing, extra=rt.log_extra
        )
    if extra:
        logger.info(
            "the page implements %s, which role %s does not declare", extra, role.name, extra=rt.log_extra
        )
    await agent.refresh_tools()


def _follow_the_user(ctx: JobContext, agent: RoleAgent, rt: SessionRuntime, settings: Settings) -> None:
    """Close after the user has been gone for the grace period; re-discover tools when they return."""
    timer: dict[str, asyncio.TimerHandle] = {}

    def gone() -> None:
        logger.info(
            "user did not come back within %.0f s; ending", settings.disconnect_grace_s, extra=rt.log_extra
        )
        rt.ending = rt.ending or "user_left"
        if rt.session is not None:
            rt.session.shutdown(drain=False)

    left = {"once": False}

    @ctx.room.on("participant_disconnected")
    def _left(p: rtc.RemoteParticipant) -> None:
        if p.identity == rt.participant and "t" not in timer:
            left["once"] = True
            timer["t"] = asyncio.get_running_loop().call_later(settings.disconnect_grace_s, gone)

    @ctx.room.on("participant_connected")
    def _back(p: rtc.RemoteParticipant) -> None:
        if p.identity != rt.participant:
            return
        rt.bridge.note_arrival()
        handle = timer.pop("t", None)
        if handle is not None:
            handle.cancel()
        if not left["once"]:
            return  # the first arrival: the main flow discovers the page's tools
        current = rt.session.current_agent if rt.session is not None else agent
        if isinstance(current, RoleAgent):
            _track(rt, asyncio.create_task(_discover_tools(current, rt, current.role)))


async def _live_reload(registry: RoleRegistry, session: AgentSession[Any], rt: SessionRuntime) -> None:
    """Apply saved edits of the active role to this session (instructions and tools)."""
    async for change in registry.watch():
        current = session.current_agent
        if not isinstance(current, RoleAgent) or change.name != current.role.name:
            continue
        if change.role is None:
            logger.warning(
                "role %s edit is invalid; keeping the running version: %s", change.name, change.error
            )
            continue
        try:
            await current.apply_role_update(change.role)
        except RoleError as exc:
            logger.warning("role %s reload failed: %s", change.name, exc, extra=rt.log_extra)


async def _enforce_limits(session: AgentSession[Any], rt: SessionRuntime) -> None:
    """End the session at the active role's `max_duration_s`, after `idle_timeout_s` of user silence, or
    once its estimated cost reaches `max_cost_usd`."""
    started = time.monotonic()
    prices = _prices(rt)
    unpriced_warned = False
    while True:
        await asyncio.sleep(LIMIT_CHECK_INTERVAL_S)
        current = session.current_agent
        if not isinstance(current, RoleAgent) or rt.ending:
            continue
        limits, now = current.role.limits, time.monotonic()
        cost = estimate_cost(rt.record.model, rt.record.usage, prices) if limits.max_cost_usd else None
        event: dict[str, Any]
        if now - started >= limits.max_duration_s:
            kind, say = "max_duration", "The session time is up."
            event = {"limit_s": limits.max_duration_s}
        elif limits.idle_timeout_s is not None and now - rt.last_user_activity >= limits.idle_timeout_s:
            kind, say = "idle", "The user has been silent for a long time."
            event = {"limit_s": limits.idle_timeout_s}
        elif limits.max_cost_usd is not None and cost is not None and cost >= limits.max_cost_usd:
            kind, say = "budget", "This session has used its budget."
            event = {"limit_usd": limits.max_cost_usd}
        else:
            if limits.max_cost_usd is not None and cost is None and not unpriced_warned:
                unpriced_warned = True
                logger.warning(
                    "max_cost_usd cannot be enforced: the price table has no entry for model %s",
                    rt.record.model,
                    extra=rt.log_extra,
                )
            continue
        logger.info("session limit reached: %s (%s)", kind, event, extra=rt.log_extra)
        await send_event(rt.local, {"type": "session_limit", "limit": kind, **event}, to=rt.participant)
        rt.ending = kind
        goodbye = session.generate_reply(instructions=f"{say} Say a short, friendly goodbye.")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(goodbye.wait_for_playout(), GOODBYE_GRACE_S)
        session.shutdown(drain=True)
        return


async def _finish(rt: SessionRuntime, settings: Settings, reason: str, ended: dict[str, str]) -> None:
    """Write the session report (log, and webhook when configured)."""
    for task in list(rt.background):
        task.cancel()
    prices = _prices(rt)
    # The worker ending the job (drain limit, shutdown) closes the session "user_initiated" first.
    end_reason = "worker_shutdown" if reason == WORKER_SHUTDOWN_REASON else ended.get("reason", reason)
    report = rt.record.finish(end_reason, prices)
    log_report(report)
    if settings.webhook_url:
        async with aiohttp.ClientSession() as http:
            await post_report(http, settings.webhook_url, settings.webhook_secret, report)


def _prices(rt: SessionRuntime) -> dict[str, Price]:
    """The operator's price table, or the built-in one if it has become unreadable."""
    try:
        return load_prices(rt.settings.prices_file)
    except PriceTableError as exc:  # checked at start-up; edited since: limits and reports still work
        logger.warning("cost estimate from the built-in prices: %s", exc, extra=rt.log_extra)
        return load_prices(None)


def _track(rt: SessionRuntime, task: asyncio.Task[Any]) -> None:
    rt.background.add(task)
    task.add_done_callback(rt.background.discard)
