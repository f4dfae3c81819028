"""The `model:` section of a role file: OpenAI Realtime session settings (voice, turn detection, ...)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BeforeValidator, Field

from worker.roles._base import FileModel

Voice = Literal["alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"]
VOICES: tuple[str, ...] = get_args(Voice)
"""The OpenAI Realtime built-in voices."""


class ServerVad(FileModel):
    """Turn detection by voice activity: fast and predictable, cuts in on long pauses."""

    type: Literal["server_vad"]
    threshold: float | None = Field(None, ge=0.0, le=1.0)
    """Activation threshold, 0.0 to 1.0 (OpenAI default 0.5); raise it in noisy rooms."""
    prefix_padding_ms: int | None = Field(None, ge=0, le=5000)
    """Audio kept before detected speech, in ms (OpenAI default 300)."""
    silence_duration_ms: int | None = Field(None, ge=0, le=10000)
    """Silence that ends the user's turn, in ms (OpenAI default 500)."""
    create_response: bool = True
    """Answer automatically when the user stops speaking."""
    interrupt_response: bool = True
    """Let the user barge in on the agent."""
    idle_timeout_ms: int | None = Field(None, ge=1)
    """Prompt the model to speak after this much user silence, in ms (server_vad only)."""


class SemanticVad(FileModel):
    """Turn detection by a model that judges whether the user has finished: fewer interruptions."""

    type: Literal["semantic_vad"]
    eagerness: Literal["low", "medium", "high", "auto"] = "medium"
    """How soon to answer: low waits up to 8 s, medium 4 s, high 2 s; auto equals medium."""
    create_response: bool = True
    """Answer automatically when the user stops speaking."""
    interrupt_response: bool = True
    """Let the user barge in on the agent."""


def _none_string(value: Any) -> Any:
    return None if value == "none" else value


TurnDetection = Annotated[ServerVad | SemanticVad, Field(discriminator="type")]


class InputTranscription(FileModel):
    """Transcription of the user's speech (shown in the UI; the model hears the audio itself)."""

    model: str = Field("gpt-4o-mini-transcribe", min_length=1)
    """Transcription model, e.g. gpt-4o-mini-transcribe, gpt-4o-transcribe, whisper-1."""
    language: str | None = Field(None, pattern=r"^[a-z]{2}$")
    """ISO-639-1 code of the user's language (e.g. en); improves accuracy and latency."""
    prompt: str | None = Field(None, max_length=1000)
    """Words or style hints for the transcriber (e.g. dish and ingredient names)."""


def _audio_only() -> list[Literal["audio", "text"]]:
    return ["audio"]


class ModelSettings(FileModel):
    """OpenAI Realtime session settings."""

    name: str = Field("gpt-realtime", min_length=1)
    """Realtime model name."""
    voice: Voice = "marin"
    """Built-in voice; cannot change once the agent has spoken in a session."""
    temperature: float | None = Field(None, ge=0.6, le=1.2)
    """Sampling temperature, 0.6 to 1.2 (0.8 recommended). The GA Realtime API ignores it."""
    modalities: list[Literal["audio", "text"]] = Field(
        default_factory=_audio_only, min_length=1, max_length=1
    )
    """Output modality: [audio] (speech, with transcripts) or [text]."""
    turn_detection: Annotated[
        TurnDetection | None,
        BeforeValidator(_none_string, json_schema_input_type=TurnDetection | Literal["none"] | None),
    ] = Field(default_factory=lambda: SemanticVad(type="semantic_vad"))
    """How the end of the user's turn is detected; none (or null) turns it off (push-to-talk)."""
    input_transcription: InputTranscription | None = Field(default_factory=InputTranscription)
    """Transcribe the user's speech; null turns it off."""
    max_output_tokens: Annotated[int, Field(ge=1, le=4096)] | Literal["inf"] = "inf"
    """Cap on tokens per response (1 to 4096), or inf."""
    speed: float | None = Field(None, ge=0.25, le=1.5)
    """Speech speed, 0.25 to 1.5 (1.0 is normal)."""
