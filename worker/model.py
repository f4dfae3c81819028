"""Build the livekit-agents OpenAI `RealtimeModel` from a role's `model:` settings."""

from __future__ import annotations

from typing import Any

from livekit.plugins.openai import realtime
from openai.types.realtime.audio_transcription import AudioTranscription
from openai.types.realtime.realtime_audio_input_turn_detection import SemanticVad as OaiSemanticVad
from openai.types.realtime.realtime_audio_input_turn_detection import ServerVad as OaiServerVad

from worker.roles import Role
from worker.roles.models import SemanticVad, ServerVad
from worker.settings import Settings

SIMULATOR_KEY = "rolecall-simulator"
"""Key sent when no OpenAI key is set and the base URL points elsewhere (the simulator accepts any)."""


def build_realtime_model(role: Role, settings: Settings) -> realtime.RealtimeModel:
    """A RealtimeModel with the role's model, voice, modalities, turn detection and transcription.

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
    if settings.openai_base_url:
        kwargs["base_url"] = settings.openai_base_url
    model = realtime.RealtimeModel(**kwargs)
    if m.max_output_tokens != "inf":
        model.update_options(max_response_output_tokens=m.max_output_tokens)
    return model


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
