"""Every reach into livekit-agents' and livekit rtc's internals, in one place.

RoleCall builds on public livekit-agents APIs wherever they exist. Where they do not, the reach lives
here and nowhere else, each with the version it was written against, what it does, and what happens
when an upgrade renames what it touches. `tests/worker/test_livekit_compat.py` checks every one of
them against the installed packages, so it is the first test to fail on an upgrade; read this module
before bumping `livekit-agents` in pyproject.toml.

Pinned: livekit-agents 1.8.9, livekit (rtc) 1.1.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from livekit import rtc
from livekit.agents import AgentServer, AgentSession, utils
from livekit.agents.cli import proto
from livekit.agents.llm._realtime import gpt_live, gpt_live_types
from livekit.agents.llm._realtime.gpt_live import GPTLiveSession
from livekit.agents.voice.remote_session import TOPIC_SESSION_MESSAGES, RoomSessionTransport, SessionHost
from livekit.agents.voice.room_io._pre_connect_audio import PRE_CONNECT_AUDIO_BUFFER_STREAM
from livekit.plugins.openai import realtime
from livekit.plugins.openai.realtime.realtime_model import NUM_CHANNELS, SAMPLE_RATE

logger = logging.getLogger("rolecall.compat")

LIVEKIT_AGENTS_VERSION = "1.8.9"
"""The version every reach below was checked against (tests/worker/test_livekit_compat.py)."""

WORKER_SHUTDOWN_REASON = "parent process shutdown"
"""The reason livekit-agents gives a job when the worker shuts it down (drain limit reached, exit), in
`ipc/job_proc_lazy_main.py`. Renamed upstream: such sessions report livekit's string as their end
reason instead of `worker_shutdown`."""


# --- the worker ---------------------------------------------------------------------------------------


def run_worker(server: AgentServer, *, log_level: str, devmode: bool, json_logs: bool) -> None:
    """Run `server` as `python -m livekit... start|dev` would, with our arguments.

    Reaches `livekit.agents.cli.cli._run_worker` (private): livekit-agents' public entry point is its
    own Typer CLI, which would parse RoleCall's command line. Renamed upstream: an ImportError at
    start-up, before any session (the compat test names it). livekit-agents colours the logs of a `dev`
    worker whatever it is asked; with `json_logs` the worker's handlers are given its JSON formatter once
    it runs (job processes' records are written by the worker's handlers).
    """
    from livekit.agents.cli.cli import _run_worker

    if json_logs and devmode:
        server.once("worker_started", use_json_logs)
    _run_worker(
        server=server,
        args=proto.CliArgs(log_level=log_level, log_format="json" if json_logs else "colored", dev=devmode),
    )


def use_json_logs() -> None:
    """Give every handler of the root logger livekit-agents' JSON formatter (`livekit.agents.cli.log`),
    which writes a record's extra fields (the session's room, job, role, participant) as keys."""
    from livekit.agents.cli.log import JsonFormatter

    for handler in logging.getLogger().handlers:
        handler.setFormatter(JsonFormatter())


@dataclass(frozen=True)
class Registration:
    """The worker's link to LiveKit: `connecting` (or reconnecting), or `failed` for good."""

    connecting: bool
    failed: bool


def registration(server: AgentServer) -> Registration:
    """Read `AgentServer._connecting` / `_connection_failed` (private; 1.8.9 has no public signal for a
    lost connection). Renamed upstream: reported as connected, with an error in the log, rather than an
    AttributeError inside the health endpoint."""
    connecting = getattr(server, "_connecting", None)
    failed = getattr(server, "_connection_failed", None)
    if not isinstance(connecting, bool) or not isinstance(failed, bool):
        logger.error("livekit-agents no longer exposes its connection state; health cannot see LiveKit")
        return Registration(connecting=False, failed=False)
    return Registration(connecting=connecting, failed=failed)


class LoadAwareServer(AgentServer):
    """An `AgentServer` whose reported load counts a job accepted but not yet running as one session.

    livekit-agents 1.8.9 weighs such a job at `load_threshold / num_idle_processes` while no job runs
    (`AgentServer._get_effective_load`, private, reading `_worker_load` and `_reserved_slots`): 0.7 with
    one warm process, so a single pending dispatch marks the worker full and LiveKit holds every other
    dispatch back until its retry (seen in tests: a session that started 20 s late). Here a session
    weighs `session_weight`, pending or running. Renamed upstream: livekit-agents' own estimate stands
    and a warning says so once.
    """

    session_weight: float = 0.0

    def _get_effective_load(self) -> float:
        load, reserved = getattr(self, "_worker_load", None), getattr(self, "_reserved_slots", None)
        if not isinstance(load, float | int) or not isinstance(reserved, int):
            _warn_once("load", "livekit-agents renamed its load fields; a pending job weighs what it says")
            return float(super()._get_effective_load())
        return float(load) + reserved * self.session_weight


# --- the session --------------------------------------------------------------------------------------


def session_running(session: AgentSession[Any]) -> bool:
    """Whether the session still has an active agent (`AgentSession._activity`, private: 1.8.9 has no
    public "is running"). Renamed upstream: AttributeError in evals (the compat test names it)."""
    return session._activity is not None


def set_input_chunk(session: realtime.RealtimeSession, chunk_ms: int) -> bool:
    """Send user audio to the model in `chunk_ms` pieces instead of livekit-agents' fixed 100 ms.

    Replaces `RealtimeSession._bstream` (private), right after construction and before any audio is
    pushed. The session's only uses of it are `push_audio` (write), `commit_audio` (flush) and
    `clear_audio` (clear), all on the event loop, and the "at least 100 ms before commit" rule is
    tracked separately (`_pushed_duration_s`), so the swap changes nothing but the chunk size.
    Renamed upstream: the session keeps its 100 ms chunks, a warning says so, and False is returned.
    """
    stream = getattr(session, "_bstream", None)
    if not isinstance(stream, utils.audio.AudioByteStream):
        _warn_once("bstream", "no RealtimeSession._bstream; user audio goes to the model in 100 ms chunks")
        return False
    session._bstream = utils.audio.AudioByteStream(
        SAMPLE_RATE, NUM_CHANNELS, samples_per_channel=SAMPLE_RATE * chunk_ms // 1000
    )
    return True


def set_live_backend(session: GPTLiveSession, options: Mapping[str, Any]) -> bool:
    """Change a GPT-Live session's backend settings: `GPTLiveSession._opts.responses` (private, read when
    the session starts and on every reconnect) and, once started, a sparse `session.update` through
    `_send_delegation_update` (private). livekit-agents 1.8.9 updates the backend's tools and tool choice
    itself but has no way to change its instructions or other settings. Renamed upstream: the backend
    keeps the settings it started with, a warning says so, and False is returned."""
    opts = getattr(session, "_opts", None)
    responses = getattr(opts, "responses", None)
    send = getattr(session, "_send_delegation_update", None)
    if not isinstance(responses, dict) or not callable(send):
        _warn_once("live_backend", "GPTLiveSession hides its backend settings; the backend cannot be retuned")
        return False
    responses.update(options)
    update: dict[str, Any] = {k: v for k, v in options.items() if k != "tool_choice"}
    if "tool_choice" in options:
        update["tool_choice"] = gpt_live._to_tool_choice(options["tool_choice"])
    send(gpt_live_types.ResponsesConfig(**update))
    return True


SESSION_HOST_TOPIC = TOPIC_SESSION_MESSAGES
"""The byte-stream topic livekit-agents' session host serves (`lk.agent.session`)."""


def operator_session_host(room: rtc.Room, identity: str, session: AgentSession[Any]) -> SessionHost:
    """livekit-agents' session host answering the participant `identity` only.

    `SessionHost` and `RoomSessionTransport` live in `voice/remote_session.py` and are not exported by
    the package (`AgentSession.start(session_host=True)` would serve everyone in the room).
    """
    host = SessionHost(RoomSessionTransport(room, identity))
    host.register_session(session)
    return host


# --- the room -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Handlers:
    """Byte-stream topics, text-stream topics and RPC methods registered in a room."""

    byte_topics: frozenset[str]
    text_topics: frozenset[str]
    rpc_methods: frozenset[str]


def room_handlers(room: rtc.Room) -> Handlers | None:
    """What the local participant serves: `Room._byte_stream_handlers`, `Room._text_stream_handlers`,
    `LocalParticipant._rpc_handlers` (private; rtc has no public listing). Renamed upstream: None, and the
    caller says it cannot check."""
    byte = getattr(room, "_byte_stream_handlers", None)
    text = getattr(room, "_text_stream_handlers", None)
    rpc = getattr(room.local_participant, "_rpc_handlers", None)
    if not isinstance(byte, dict) or not isinstance(text, dict) or not isinstance(rpc, dict):
        return None
    return Handlers(frozenset(byte), frozenset(text), frozenset(rpc))


PRE_CONNECT_TOPIC = PRE_CONNECT_AUDIO_BUFFER_STREAM
"""The byte-stream topic of the page's pre-connect audio buffer (`lk.agent.pre-connect-audio-buffer`,
`voice/room_io/_pre_connect_audio.py`, a private module)."""


def byte_stream_handler(room: rtc.Room, topic: str) -> Callable[[Any, str], None] | None:
    """The handler registered for a byte-stream topic (`Room._byte_stream_handlers`, private: rtc has no
    getter). RoleCall wraps livekit-agents' pre-connect audio handler with its own checks
    (`worker.session.pre_connect`). Renamed upstream: None, and the buffer is not used (logged)."""
    handlers = getattr(room, "_byte_stream_handlers", None)
    handler = handlers.get(topic) if isinstance(handlers, dict) else None
    return handler if callable(handler) else None


_warned: set[str] = set()


def _warn_once(key: str, message: str, log: Callable[..., None] = logger.warning) -> None:
    if key not in _warned:
        _warned.add(key)
        log("livekit-agents %s compatibility: %s", LIVEKIT_AGENTS_VERSION, message)


# --- pre-opened model connections (worker.preopen) ----------------------------------------------------


def on_job_loop(callback: Callable[[], None]) -> None:
    """Call `callback` on the event loop this thread creates next: the job's loop, when called from
    `setup_fnc` (livekit-agents 1.8.9 runs it before `ipc/proc_client.py` creates the job's loop with
    `asyncio.new_event_loop()`, in the job's process or, for the thread executor, its thread).

    Wraps `new_event_loop` of the current event loop policy (the object is kept, with its state), with a
    per-thread queue, so job threads never see each other's callbacks. Changed upstream (the loop made
    before `setup_fnc`, or not through the policy): the callback never runs, and models connect when the
    job starts, as without pre-opening.
    """
    policy = asyncio.get_event_loop_policy()
    if not getattr(policy, "_rolecall_job_loop_hook", False):
        make_loop = policy.new_event_loop

        def new_event_loop() -> asyncio.AbstractEventLoop:
            loop = make_loop()
            callbacks, _job_loop.callbacks = getattr(_job_loop, "callbacks", []), []
            for cb in callbacks:
                loop.call_soon(cb)
            return loop

        policy.new_event_loop = new_event_loop  # type: ignore[method-assign]
        policy._rolecall_job_loop_hook = True  # type: ignore[attr-defined]
    _job_loop.callbacks = [*getattr(_job_loop, "callbacks", []), callback]


_job_loop = threading.local()
"""Callbacks waiting for this thread's next event loop (`on_job_loop`)."""


def live_sessions_url(base_url: str) -> str:
    """The WebSocket URL a GPT-Live session connects to (`gpt_live._live_sessions_url`, private).
    Renamed upstream: an ImportError here, so GPT-Live roles are not pre-opened (the caller logs it)."""
    from livekit.agents.llm._realtime.gpt_live import _live_sessions_url

    return str(_live_sessions_url(base_url, is_azure=False))


TakeConnection = Callable[[str], Awaitable["aiohttp.ClientWebSocketResponse | None"]]


def connect_through(session: realtime.RealtimeSession | GPTLiveSession, take: TakeConnection) -> bool:
    """Make the session ask `take(url)` for an open connection before it opens one itself.

    Replaces the session's `_create_ws_conn` (private; both `RealtimeSession` and `GPTLiveSession` call
    it for each connection attempt from their `_main_task`, which starts on the next loop iteration),
    reading the URL from `_create_ws_url_and_headers` (private). Renamed upstream: the session opens its
    own connections, a warning says so, and False is returned.
    """
    original = getattr(session, "_create_ws_conn", None)
    target = getattr(session, "_create_ws_url_and_headers", None)
    if not callable(original) or not callable(target):
        _warn_once("ws_conn", "no _create_ws_conn on the model session; pre-opened connections unused")
        return False

    async def create_ws_conn() -> aiohttp.ClientWebSocketResponse:
        url, _headers = target()
        ws = await take(url)
        return ws if ws is not None else await original()

    session._create_ws_conn = create_ws_conn  # type: ignore[method-assign]
    return True
