"""Build the model of a role: livekit-agents' OpenAI `RealtimeModel` from its `model:` settings, or (for
`api: live`) its `GPTLiveModel` (`worker.live`)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Union

from livekit.plugins.openai import realtime
from openai.types.realtime.audio_transcription import AudioTranscription
from openai.types.realtime.realtime_audio_input_turn_detection import SemanticVad as OaiSemanticVad
from openai.types.realtime.realtime_audio_input_turn_detection import ServerVad as OaiServerVad
from openai.types.realtime.realtime_reasoning import RealtimeReasoning
from openai.types.realtime.realtime_truncation import RealtimeTruncation
from openai.types.realtime.realtime_truncation_retention_ratio import RealtimeTruncationRetentionRatio
from opentelemetry.trace import StatusCode

from worker._livekit_compat import TakeConnection, connect_through, set_input_chunk
from worker.live import SIMULATOR_KEY, RoleCallLiveModel, build_live_model, tool_choice_of
from worker.metrics import MODEL_CONNECTIONS, MODEL_RECONNECTS
from worker.roles import Role
from worker.roles.model_settings import RetentionRatio
from worker.roles.models import SemanticVad, ServerVad
from worker.settings import Settings
from worker.tracing import tracer

logger = logging.getLogger("rolecall.model")

LIVEKIT_INPUT_CHUNK_MS = 100
"""livekit-agents 1.8.9 sends user audio to the model in 100 ms `input_audio_buffer.append` chunks."""

RoleModel = Union["RoleCallRealtimeModel", RoleCallLiveModel]
"""The model a session of a role runs on (both can `open_early()` and `aclose()`)."""


def build_model(role: Role, settings: Settings, take: TakeConnection | None = None) -> RoleModel:
    """The role's model: a RealtimeModel, or under `api: live` a GPTLiveModel. With `take`, its first
    session asks it for a pre-opened connection (`worker.preopen.Preopened.take`) before connecting."""
    if role.model.live:
        return build_live_model(role, settings, take)
    return build_realtime_model(role, settings, take)


def build_realtime_model(
    role: Role, settings: Settings, take: TakeConnection | None = None
) -> RoleCallRealtimeModel:
    """A RealtimeModel with the role's model, voice, modalities, turn detection, transcription, noise
    reduction, truncation, reasoning effort, tool choice and parallel tool calls.

    `temperature` is not sent: the GA Realtime API ignores it (livekit-agents marks it unused).
    """
    m = role.model
    kwargs: dict[str, Any] = {
        "model": m.name,
        "voice": m.voice,
        "modalities": list(m.modalities),
        "turn_detection": _turn_detection(m.turn_detection),
        "input_audio_transcription": (
            None
            if m.input_transcription is None
            else AudioTranscription(
                model=m.input_transcription.model,
                language=m.input_transcription.language,
                prompt=m.input_transcription.prompt,
            )
        ),
        "api_key": settings.openai_api_key or (SIMULATOR_KEY if settings.openai_base_url else None),
    }
    if m.speed is not None:
        kwargs["speed"] = m.speed
    if m.reasoning_effort is not None:
        kwargs["reasoning"] = RealtimeReasoning(effort=m.reasoning_effort)
    if m.noise_reduction is not None:
        kwargs["input_audio_noise_reduction"] = m.noise_reduction
    if m.truncation != "auto":
        kwargs["truncation"] = _truncation(m.truncation)
    if m.tool_choice != "auto":
        kwargs["tool_choice"] = tool_choice_of(m.tool_choice)
    if settings.openai_base_url:
        kwargs["base_url"] = settings.openai_base_url
    model = RoleCallRealtimeModel(
        input_chunk_ms=settings.audio_input_chunk_ms,
        parallel_tool_calls=m.parallel_tool_calls,
        take=take,
        **kwargs,
    )
    if m.max_output_tokens != "inf":
        model.update_options(max_response_output_tokens=m.max_output_tokens)
    return model


def _truncation(truncation: str | RetentionRatio) -> RealtimeTruncation:
    if isinstance(truncation, RetentionRatio):
        return RealtimeTruncationRetentionRatio(
            type="retention_ratio", retention_ratio=truncation.retention_ratio
        )
    return "disabled" if truncation == "disabled" else "auto"


def _turn_detection(td: ServerVad | SemanticVad | None) -> OaiServerVad | OaiSemanticVad | None:
    if td is None:
        return None
    if isinstance(td, ServerVad):
        return OaiServerVad(
            type="server_vad",
            threshold=td.threshold,
            prefix_padding_ms=td.prefix_padding_ms,
            silence_duration_ms=td.silence_duration_ms,
            create_response=td.create_response,
            interrupt_response=td.interrupt_response,
            idle_timeout_ms=td.idle_timeout_ms,
        )
    return OaiSemanticVad(
        type="semantic_vad",
        eagerness=td.eagerness,
        create_response=td.create_response,
        interrupt_response=td.interrupt_response,
    )


class RoleCallRealtimeModel(realtime.RealtimeModel):
    """livekit-agents' OpenAI RealtimeModel with two additions, both through public methods.

    **An early connection.** `open_early()` creates the first session before the room is joined, so
    that the WebSocket to the model (TLS and handshake: a few hundred ms to OpenAI) opens while the
    worker connects to LiveKit and finds the user; the session's first agent then takes it over in
    `session()` instead of starting a connection of its own. Errors the early session raises before it
    is taken over are kept and raised again once the agent listens, so an unreachable model is still
    reported; a session never taken over is closed by `aclose()`.

    **Smaller input chunks.** livekit-agents 1.8.9 fixes the chunk of user audio per
    `input_audio_buffer.append` at 100 ms with no option to change it; each new session's chunk is set
    right after construction (`worker._livekit_compat.set_input_chunk` says how and why that is safe).
    Pair it with room input frames no longer than the chunk (`room_io.AudioInputOptions(frame_size_ms=...)`,
    50 ms by default).

    **A pre-opened connection.** With `take`, each new session first asks it for a connection the idle
    job process opened before the job (`worker.preopen`); only the first ask can be answered.
    """

    def __init__(
        self,
        *,
        input_chunk_ms: int = LIVEKIT_INPUT_CHUNK_MS,
        parallel_tool_calls: bool | None = None,
        take: TakeConnection | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.take = take
        self.input_chunk_ms = input_chunk_ms
        self.parallel_tool_calls = parallel_tool_calls
        self._early: realtime.RealtimeSession | None = None
        self._early_errors: list[Any] = []

    def open_early(self) -> None:
        """Start connecting to the model now; the first `session()` call returns this session."""
        if self._early is not None:
            return
        self._early = self._new_session(turn_detection_disabled=False)
        self._early.on("error", self._early_errors.append)

    def session(self, *, turn_detection_disabled: bool = False) -> realtime.RealtimeSession:
        early, self._early = self._early, None
        if early is not None:
            early.off("error", self._early_errors.append)
            if not turn_detection_disabled:
                errors, self._early_errors = self._early_errors, []
                loop = asyncio.get_running_loop()
                for err in errors:  # after the caller has attached its listeners
                    loop.call_soon(early.emit, "error", err)
                return early
            closing = asyncio.ensure_future(early.aclose())
            _closing.add(closing)
            closing.add_done_callback(_closing.discard)
        return self._new_session(turn_detection_disabled=turn_detection_disabled)

    async def aclose(self) -> None:
        early, self._early = self._early, None
        if early is not None:
            try:
                await early.aclose()
            except Exception as exc:  # its failure was emitted as an error event already
                logger.debug("the unused early model session ended with %r", exc)
        await super().aclose()

    def _new_session(self, *, turn_detection_disabled: bool) -> realtime.RealtimeSession:
        sess = super().session(turn_detection_disabled=turn_detection_disabled)
        if self.take is not None:
            connect_through(sess, self.take)
        if self.input_chunk_ms != LIVEKIT_INPUT_CHUNK_MS:
            set_input_chunk(sess, self.input_chunk_ms)
        _observe_connection(sess)
        if self.parallel_tool_calls is not None:
            # livekit-agents 1.8.9 does not pass this setting through: a session.update of its own after
            # livekit-agents' first one, and again after each reconnect (a new OpenAI session)
            update = _parallel_tool_calls_update(self.parallel_tool_calls)
            sess.send_event(update)
            sess.on("session_reconnected", lambda _: sess.send_event(update))
        return sess


def _observe_connection(sess: realtime.RealtimeSession) -> None:
    """Count the connection (and its reconnects); trace it until the model's first event arrives."""
    MODEL_CONNECTIONS.inc()
    span = tracer.start_span("rolecall.model_connect")

    def done(ev: Any) -> None:
        if not span.is_recording():
            return
        if getattr(ev, "type", "") == "realtime_model_error":
            span.set_status(StatusCode.ERROR)
        span.end()

    sess.on("openai_server_event_received", done)  # the model's first event: connected
    sess.on("error", done)
    sess.on("session_reconnected", lambda _: MODEL_RECONNECTS.inc())


_closing: set[asyncio.Future[None]] = set()
"""Early sessions being closed (kept referenced until done)."""


def _parallel_tool_calls_update(parallel: bool) -> dict[str, Any]:
    return {"type": "session.update", "session": {"type": "realtime", "parallel_tool_calls": parallel}}


def input_frame_ms(settings: Settings) -> int:
    """Room input frame size to pair with the chunk size: livekit-agents' 50 ms, or the chunk if smaller."""
    return min(50, settings.audio_input_chunk_ms)
