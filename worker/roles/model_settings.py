"""The `model:` section of a role file: which OpenAI voice API the role runs on, and its settings.

`api: realtime` (the default) runs on the Realtime API; `api: live` on GPT-Live, where a short voice
prompt (`live_instructions`) drives the full-duplex voice model and the role's `instructions` and tools
go to a backend Responses model (`backend`). Settings of one API written under the other are errors at
their line, with a hint (`_REALTIME_ONLY`, `_LIVE_ONLY`), never silently ignored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticKnownError

from worker.roles._base import TOOL_NAME, FileModel
from worker.yamlfile import hinted

Voice = Literal["alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"]
VOICES: tuple[str, ...] = get_args(Voice)
"""The OpenAI Realtime built-in voices."""
LiveVoice = Literal[
    "alloy", "ash", "ballad", "beacon", "bossa", "cedar", "cinder", "coral", "delta", "echo", "gleam",
    "marin", "meridian", "quartz", "ripple", "sage", "shida", "shimmer", "stone", "tempo", "verse",
    "vesper", "willow",
]  # fmt: skip
LIVE_VOICES: tuple[str, ...] = get_args(LiveVoice)
"""GPT-Live's built-in voices (`openai.types.live.BuiltInVoice`), the Realtime ones included."""
Api = Literal["realtime", "live"]
DEFAULT_MODELS: dict[str, str] = {"realtime": "gpt-realtime", "live": "gpt-live-1"}
"""The model `name` of each API when the role does not set one."""
DEFAULT_LIVE_INSTRUCTIONS = (
    "You are the voice of a helpful assistant. Speak naturally, warmly and briefly. Anything that needs "
    "facts, tools, the screen or careful reasoning, hand to your backend and say what it found in your "
    "own words. Never make up results."
)
"""The voice model's instructions of an `api: live` role without `live_instructions`."""


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


class FunctionChoice(FileModel):
    """Make the model call this one tool."""

    function: str = Field(pattern=TOOL_NAME)
    """The name of one of the role's tools."""


class RetentionRatio(FileModel):
    """When the conversation outgrows the context, drop its oldest part down to this fraction."""

    retention_ratio: float = Field(ge=0.0, le=1.0)
    """Fraction of the conversation (after the instructions) kept, 0.0 to 1.0 (e.g. 0.8)."""


def _text_or_mapping(value: Any) -> str | None:
    if isinstance(value, str):
        return "<text>"
    return "<mapping>" if isinstance(value, dict | FunctionChoice | RetentionRatio) else None


ToolChoice = Annotated[
    Annotated[Literal["auto", "none", "required"], Tag("<text>")]
    | Annotated[FunctionChoice, Tag("<mapping>")],
    Discriminator(
        _text_or_mapping,
        custom_error_type="tool_choice_type",
        custom_error_message="expected auto, none, required or a mapping {function: NAME}",
    ),
]


def _no_client_delegation(value: Any) -> Any:
    if value == "client":
        raise hinted(
            "delegation: client is not supported: it hands each task to the application, and RoleCall "
            "runs no backend of its own to answer it",
            "use delegation: responses (the default): the role's instructions and tools run on the backend",
        )
    return value


class Backend(FileModel):
    """The Responses model GPT-Live hands reasoning and tools to (`api: live`)."""

    model: str = Field("gpt-5.6-luna", min_length=1)
    """Backend model name (livekit-agents' default, gpt-5.6-luna)."""
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    """How hard the backend thinks before answering (supported values depend on the model); null: its
    default."""
    verbosity: Literal["low", "medium", "high"] | None = None
    """How much detail the backend's text carries (not how the voice speaks); null: its default."""
    max_output_tokens: int | None = Field(None, ge=16, le=128_000)
    """Cap on tokens per backend response (at least 16); null: no cap."""


class ModelSettings(FileModel):
    """Which OpenAI voice API the role runs on, and that API's settings."""

    api: Api = "realtime"
    """realtime (the Realtime API) or live (GPT-Live: full duplex, reasoning and tools delegated to a
    backend model). Roles that hand off to each other use the same API."""
    name: str = Field("gpt-realtime", min_length=1)
    """Model name; default gpt-realtime, or gpt-live-1 under api: live."""
    voice: LiveVoice = "marin"
    """Built-in voice (Realtime: alloy, ash, ballad, coral, echo, sage, shimmer, verse, marin, cedar;
    GPT-Live: those and more); cannot change once the agent has spoken in a session."""
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
    reasoning_effort: Literal["minimal", "low", "medium", "high", "xhigh"] | None = None
    """How hard a reasoning Realtime model (e.g. gpt-realtime-2) thinks before it answers; null: the
    model's default."""
    noise_reduction: Literal["near_field", "far_field"] | None = None
    """Clean the microphone audio before the model hears it: near_field (headset, laptop) or far_field
    (a room microphone); null: off."""
    truncation: Annotated[
        Annotated[Literal["auto", "disabled"], Tag("<text>")] | Annotated[RetentionRatio, Tag("<mapping>")],
        Discriminator(
            _text_or_mapping,
            custom_error_type="truncation_type",
            custom_error_message="expected auto, disabled or a mapping {retention_ratio: 0.8}",
        ),
    ] = "auto"
    """When the conversation outgrows the context: auto (drop the oldest turns), disabled (fail instead),
    or {retention_ratio: 0.8} (drop down to that fraction at once, which keeps the prompt cache longer)."""
    tool_choice: ToolChoice = "auto"
    """Whether the model calls tools: auto, none, required (one call at least), or {function: NAME}."""
    parallel_tool_calls: bool | None = None
    """Let the model call several tools at once (reasoning models); null: the model's default."""
    pre_connect_audio: bool = False
    """Take the audio the page records while the agent joins (livekit-client's preConnectBuffer), so the
    user's first words are not lost; only from the session's user, at most a few seconds."""
    live_instructions: str | None = Field(None, min_length=1, max_length=20_000)
    """api: live only. The voice model's own short prompt: how to speak, when to hand work to the
    backend. The role's instructions go to the backend. Default: a generic conversational prompt."""
    delegation: Annotated[Literal["responses"], BeforeValidator(_no_client_delegation)] = "responses"
    """api: live only. Where GPT-Live hands tasks: responses (a backend model running the role's
    instructions and tools)."""
    backend: Backend = Field(default_factory=Backend)
    """api: live only. The backend model's settings."""

    @model_validator(mode="before")
    @classmethod
    def _default_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and "name" not in data and data.get("api") == "live":
            return {**data, "name": DEFAULT_MODELS["live"]}
        return data

    @field_validator("voice", mode="before")
    @classmethod
    def _voice_of_the_api(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("api", "realtime") == "realtime" and value not in VOICES:
            if value in LIVE_VOICES:
                raise hinted(f"{value} is a GPT-Live voice", "set api: live, or pick a Realtime voice")
            raise PydanticKnownError("literal_error", {"expected": ", ".join(repr(v) for v in VOICES)})
        return value

    @field_validator(
        "temperature",
        "modalities",
        "turn_detection",
        "input_transcription",
        "max_output_tokens",
        "speed",
        "reasoning_effort",
        "noise_reduction",
        "truncation",
    )
    @classmethod
    def _realtime_only(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("api") == "live":
            assert info.field_name is not None
            raise hinted(f"{info.field_name} does not apply to api: live", _REALTIME_ONLY[info.field_name])
        return value

    @field_validator("live_instructions", "delegation", "backend")
    @classmethod
    def _live_only(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("api", "realtime") == "realtime":
            assert info.field_name is not None
            raise hinted(f"{info.field_name} applies to api: live only", _LIVE_ONLY)
        return value

    @property
    def live(self) -> bool:
        """Whether the role runs on GPT-Live."""
        return self.api == "live"

    @property
    def voice_instructions(self) -> str:
        """GPT-Live's voice prompt (the role's own, or the default)."""
        return self.live_instructions or DEFAULT_LIVE_INSTRUCTIONS


_REALTIME_ONLY: dict[str, str] = {
    "temperature": "GPT-Live has no sampling temperature; remove it",
    "modalities": "GPT-Live always speaks, with transcripts alongside; remove it",
    "turn_detection": "GPT-Live is full duplex and decides itself when to speak; remove it",
    "input_transcription": "GPT-Live transcribes the user itself; remove it",
    "max_output_tokens": "cap the backend instead: backend.max_output_tokens",
    "speed": "GPT-Live has no speech speed setting; remove it",
    "reasoning_effort": "the backend reasons under api: live: backend.reasoning_effort",
    "noise_reduction": "GPT-Live has no input noise reduction setting; remove it",
    "truncation": "GPT-Live manages its context itself; remove it",
}
"""Realtime settings an `api: live` role may not set, and what to do instead."""
_LIVE_ONLY = "set api: live to run the role on GPT-Live, or remove it"
