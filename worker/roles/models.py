"""The role file format as pydantic models, and the resolved `Role` the worker runs.

`RoleFile` and `FragmentFile` describe what may be written in YAML (strict types, unknown keys
forbidden); the JSON Schema for editors is generated from them. `Role` is what loading produces: prompt
files read, fragments merged, every cross-file reference checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
)
from pydantic import model_validator as _model_validator
from pydantic_core import PydanticCustomError

from worker.roles import regex, template
from worker.roles.policy import RolePolicy, is_worker_header, reserved_env, reserved_env_message

ROLE_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"
"""Role and fragment names: also their file stems."""
TOOL_NAME = r"^[a-zA-Z0-9_-]{1,64}$"
"""What OpenAI function calling accepts as a function name."""
VARIABLE_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
ENV_NAME = r"^[A-Z_][A-Z0-9_]{0,127}$"
VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")
"""The OpenAI Realtime built-in voices."""
BUILTINS = ("end_session",)
"""Tools shipped with the worker."""
RPC_METHOD_MAX_BYTES = 64
"""LiveKit's limit on RPC method names."""

Voice = Literal["alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"]
RoleName = Annotated[str, Field(pattern=ROLE_NAME)]

_ENV_REF = re.compile(r"\$\{([^}]*)\}")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_SENSITIVE_HEADER = re.compile(r"authorization|cookie|token|secret|api[-_]?key|password", re.IGNORECASE)
_DEFAULT_ERROR_MESSAGE = (
    "The tool failed. Tell the user in one short sentence that it did not work, then offer to try again "
    "or to continue without it."
)


class _FileModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, use_attribute_docstrings=True, allow_inf_nan=False
    )


# ---------------------------------------------------------------------------------------------- model


class ServerVad(_FileModel):
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


class SemanticVad(_FileModel):
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


class InputTranscription(_FileModel):
    """Transcription of the user's speech (shown in the UI; the model hears the audio itself)."""

    model: str = Field("gpt-4o-mini-transcribe", min_length=1)
    """Transcription model, e.g. gpt-4o-mini-transcribe, gpt-4o-transcribe, whisper-1."""
    language: str | None = Field(None, pattern=r"^[a-z]{2}$")
    """ISO-639-1 code of the user's language (e.g. en); improves accuracy and latency."""
    prompt: str | None = Field(None, max_length=1000)
    """Words or style hints for the transcriber (e.g. dish and ingredient names)."""


def _audio_only() -> list[Literal["audio", "text"]]:
    return ["audio"]


class ModelSettings(_FileModel):
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


class Limits(_FileModel):
    """Session limits the worker enforces."""

    max_duration_s: float = Field(1800, ge=10, le=14400)
    """End the session after this many seconds (default 30 minutes)."""
    idle_timeout_s: float | None = Field(120, ge=5, le=3600)
    """End the session after this many seconds without the user speaking; null disables it."""
    max_tool_calls_per_turn: int = Field(8, ge=1, le=64)
    """Tool calls allowed in one agent turn before further calls fail (stops runaway loops)."""
    max_handoffs: int = Field(10, ge=0, le=100)
    """Handoffs allowed in one session (stops two roles handing the user back and forth)."""
    max_cost_usd: float | None = Field(None, gt=0, le=1000)
    """End the session (after a short goodbye) once its estimated model cost reaches this many US
    dollars, from the token usage and the worker's price table; null: no budget."""


class Variable(_FileModel):
    """A template variable: `{{ name }}` in instructions and greeting, filled from dispatch `vars`.

    Values usually come from the browser and land in the system instructions: keep them as narrow as
    the role allows (an `enum`, a `pattern`, a short `max_length`).
    """

    default: str | int | float | None = None
    """Value when the dispatch does not give one; without a default the variable is required."""
    description: str = ""
    """What the variable means (for whoever builds the dispatch)."""
    type: Literal["string", "integer", "number"] | None = None
    """string, integer or number (JSON types of the given value); absent: a string or a number."""
    enum: list[str | int | float] | None = Field(None, min_length=1, max_length=100)
    """The only values accepted, e.g. [metric, US customary]."""
    pattern: str | None = Field(None, min_length=1, max_length=1000)
    """Regular expression (RE2 syntax) the whole value must match (no anchors needed), e.g.
    [A-Za-z][A-Za-z .'-]*."""
    max_length: int = Field(template.DEFAULT_MAX_CHARS, ge=1, le=template.MAX_VALUE_CHARS)
    """Longest value accepted, in characters (default 100, at most 500)."""

    @field_validator("pattern")
    @classmethod
    def _check_pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                regex.compile(value)
            except regex.RegexError as exc:
                raise _hinted(f"pattern is not supported: {exc}", regex.REFUSED_HINT) from None
        return value

    @_model_validator(mode="after")
    def _check_values(self) -> Variable:
        for index, item in enumerate(self.enum or ()):
            problem = template.value_problem(self, item, check_enum=False)
            if problem:
                raise ValueError(f"enum[{index}]: {problem}")
        if self.default is not None:
            problem = template.value_problem(self, self.default)
            if problem:
                raise ValueError(f"default: {problem}")
        return self


class PromptFile(_FileModel):
    """Instructions kept in a separate file (Markdown or text)."""

    file: str = Field(min_length=1)
    """Path relative to the roles directory, e.g. prompts/cooking-guide.md; must stay inside it."""


def _instructions_tag(value: Any) -> str | None:
    if isinstance(value, str | PromptFile):
        return "<text>" if isinstance(value, str) else "<file>"
    return "<file>" if isinstance(value, dict) else None


Instructions = Annotated[
    Annotated[str, Tag("<text>")] | Annotated[PromptFile, Tag("<file>")],
    Discriminator(
        _instructions_tag,
        custom_error_type="instructions_type",
        custom_error_message="expected text or a mapping {file: prompts/NAME.md}",
    ),
]


class Greeting(_FileModel):
    """What the agent does on arrival: exactly one of `instructions` or `say`."""

    instructions: str | None = Field(None, min_length=1)
    """Instructions for the first reply (the model words it), e.g. Greet the user by name."""
    say: str | None = Field(None, min_length=1)
    """Words to say as they are (the model is asked to say exactly this)."""

    @_model_validator(mode="after")
    def _exactly_one(self) -> Greeting:
        if (self.instructions is None) == (self.say is None):
            raise ValueError("expected exactly one of instructions or say")
        return self


def _greeting_shorthand(value: Any) -> Any:
    return {"instructions": value} if isinstance(value, str) else value


# ---------------------------------------------------------------------------------------------- tools


def _default_parameters() -> dict[str, Any]:
    return {"type": "object", "properties": {}}


class _Tool(_FileModel):
    name: str = Field(pattern=TOOL_NAME)
    """Function name the model calls; unique within the role (fragments included)."""
    description: str = Field(min_length=1, max_length=1024)
    """When and why the model should call it; the model reads this."""
    parameters: dict[str, Any] = Field(default_factory=_default_parameters)
    """JSON Schema (object) of the arguments, limited to what OpenAI function calling accepts."""
    error_message: str = Field(_DEFAULT_ERROR_MESSAGE, min_length=1, max_length=500)
    """What the model is told when the tool fails (so it can say something useful)."""


class FrontendTool(_Tool):
    """Calls the user's browser over LiveKit RPC; the page's handler returns JSON."""

    kind: Literal["frontend"]
    rpc_method: str | None = Field(None, min_length=1)
    """RPC method name (at most 64 bytes); defaults to the tool name."""
    timeout_s: float = Field(10.0, gt=0, le=60)
    """Seconds to wait for the page's reply."""

    @field_validator("rpc_method")
    @classmethod
    def _method_bytes(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode()) > RPC_METHOD_MAX_BYTES:
            raise ValueError(f"expected at most {RPC_METHOD_MAX_BYTES} bytes, found {len(value.encode())}")
        return value

    @property
    def method(self) -> str:
        """The RPC method to call."""
        return self.rpc_method or self.name


def _check_header_name(name: str) -> str:
    if not _HEADER_NAME.match(name):
        raise ValueError(f"header name {name!r} is not a valid HTTP header name")
    if is_worker_header(name):
        raise ValueError(f"header {name} is set by the worker and cannot be configured")
    return name


HINTED_ERROR = "hinted"
"""Error type of a validation error with a hint (e.g. what the deployment's `RolePolicy` refuses);
its context carries `message` and `hint`, reported as `message (hint: hint)`."""
_ENV_HINT = (
    "use a name the operator allows (ROLECALL_TOOL_ENV), e.g. TOOL_..., or ask the operator to allow this one"
)


def _policy(info: ValidationInfo) -> RolePolicy | None:
    """The deployment's policy, when the loader validates with `context={"policy": ...}`."""
    policy = info.context.get("policy") if isinstance(info.context, dict) else None
    return policy if isinstance(policy, RolePolicy) else None


def _hinted(message: str, hint: str) -> PydanticCustomError:
    return PydanticCustomError(HINTED_ERROR, "{message}", {"message": message, "hint": hint})


def _check_header_value(value: str, info: ValidationInfo) -> str:
    refs = _ENV_REF.findall(value)
    if any(not re.fullmatch(ENV_NAME, ref) for ref in refs) or value.replace("$$", "").count("$") != len(
        refs
    ):
        raise ValueError("write environment references as ${NAME} (A-Z, 0-9, _)")
    for ref in refs:
        if reserved_env(ref):
            raise ValueError(reserved_env_message(ref))
    policy = _policy(info)
    for ref in dict.fromkeys(refs):
        problem = policy.env_problem(ref) if policy is not None else None
        if problem:
            raise _hinted(problem, _ENV_HINT)
    return value


HeaderName = Annotated[str, AfterValidator(_check_header_name)]
HeaderValue = Annotated[str, AfterValidator(_check_header_value)]


class HttpTool(_Tool):
    """POSTs the validated arguments as JSON to a fixed URL, signed with an HMAC of the body."""

    kind: Literal["http"]
    url: str = Field(min_length=1)
    """http or https URL, fixed here (never built from model output); or a path (`/api/...`) on the
    app backend named by the worker's `ROLECALL_APP_URL`."""
    secret_env: str | None = None
    """NAME of the environment variable holding the HMAC signing secret (never the secret itself):
    ROLECALL_TOOL_SECRET, or a name the operator allows (ROLECALL_TOOL_ENV, default TOOL_*)."""
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict)
    """Static request headers; values may reference environment variables as ${NAME}, for names the
    operator allows (ROLECALL_TOOL_ENV, default TOOL_*); never User-Agent or X-RoleCall-* headers."""
    max_response_bytes: int = Field(65536, ge=1, le=1048576)
    """Larger responses are cut off and the call fails."""
    allowed_hosts: list[str] | None = None
    """If given, the URL's host must be one of these."""
    timeout_s: float = Field(10.0, gt=0, le=60)
    """Seconds for the whole request."""

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str, info: ValidationInfo) -> str:
        if value.startswith("/") and not value.startswith("//"):
            if any(c.isspace() for c in value) or urlsplit(value).fragment:
                raise ValueError("expected a path like /api/recipes/search (no spaces, no #fragment)")
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https"):
            raise ValueError(
                f"expected an http:// or https:// URL, found scheme {parts.scheme or '(none)'!r}"
            )
        if not parts.hostname:
            raise ValueError(
                "expected a URL with a host (https://api.example.com/recipes) or a path on the app "
                "backend (/api/recipes)"
            )
        if parts.username or parts.password:
            raise ValueError("credentials in the URL are not allowed; use headers with ${ENV_NAME}")
        policy = _policy(info)
        problem = policy.host_problem(parts.hostname) if policy is not None else None
        if problem:
            raise _hinted(
                f"{problem}; http tools do not call loopback, private, link-local or other non-public "
                "addresses on this worker",
                "if this worker should call it, the operator lists the host in ROLECALL_HTTP_PRIVATE_HOSTS",
            )
        return value

    @field_validator("secret_env")
    @classmethod
    def _check_secret_env(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not re.fullmatch(ENV_NAME, value):
            raise ValueError(
                "expected the NAME of an environment variable (like RECIPES_SECRET), found something else; "
                "if that was the secret itself, remove it from the file, put it in the environment and name "
                "the variable here"
            )
        if value is not None and reserved_env(value, signing=True):
            raise ValueError(reserved_env_message(value, signing=True))
        policy = _policy(info)
        problem = policy.env_problem(value, signing=True) if policy is not None and value else None
        if problem:
            raise _hinted(problem, _ENV_HINT)
        return value

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, header in value.items():
            refs = _ENV_REF.findall(header)
            if _SENSITIVE_HEADER.search(name) and not refs:
                raise ValueError(
                    f"header {name} looks like a credential; reference an environment variable "
                    f"instead of writing the value, e.g. {name}: Bearer ${{API_TOKEN}}"
                )
        return value

    @_model_validator(mode="after")
    def _check_allowed_hosts(self) -> HttpTool:
        host = urlsplit(self.url).hostname
        if host is None:
            return self  # a path: the host is the app backend's, checked when the tool is called
        if self.allowed_hosts is not None and host not in self.allowed_hosts:
            raise ValueError(f"url host {host!r} is not in allowed_hosts ({', '.join(self.allowed_hosts)})")
        return self

    def env_names(self) -> list[str]:
        """Environment variables this tool reads (secret and header references)."""
        names = [self.secret_env] if self.secret_env else []
        for header in self.headers.values():
            names.extend(_ENV_REF.findall(header))
        return names


def _handoff_parameters() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "summary": {
                "type": "string",
                "description": "One or two sentences for the next agent: who the user is and what they want.",
            }
        },
        "required": ["summary"],
    }


class HandoffTool(_Tool):
    """Switches the session to another role (its instructions and tools), keeping the conversation."""

    kind: Literal["handoff"]
    target: RoleName
    """The role to hand over to; must exist in the roles directory."""
    message: str | None = Field(None, min_length=1)
    """Instructions for what the agent says as it hands over, e.g. Tell the user the sommelier is joining."""
    history: Literal["full", "none"] = "full"
    """Whether the next role sees the conversation so far (full) or only the handoff arguments (none)."""
    parameters: dict[str, Any] = Field(default_factory=_handoff_parameters)
    """Arguments passed to the next role; by default a required `summary` string."""
    timeout_s: float = Field(5.0, gt=0, le=60)
    """Seconds allowed for the switch."""


class BuiltinTool(_Tool):
    """A tool implemented by the worker itself."""

    kind: Literal["builtin"]
    builtin: Literal["end_session"]
    """Which built-in: end_session ends the call after the agent's goodbye."""
    timeout_s: float = Field(5.0, gt=0, le=60)
    """Seconds allowed."""


Tool = Annotated[FrontendTool | HttpTool | HandoffTool | BuiltinTool, Field(discriminator="kind")]
TOOL_KINDS = ("frontend", "http", "handoff", "builtin")


# ---------------------------------------------------------------------------------------------- files


class FragmentFile(_FileModel):
    """`roles/fragments/<name>.yaml`: instructions and tools shared between roles."""

    model_config = ConfigDict(title="RoleCall fragment")

    description: str = ""
    """What the fragment is for."""
    instructions: Instructions | None = None
    """Appended after the role's own instructions (text or {file: ...})."""
    tools: list[Tool] = Field(default_factory=list)
    """Added to the role's tools."""


class RoleFile(_FileModel):
    """`roles/<name>.yaml`: one voice agent role."""

    model_config = ConfigDict(title="RoleCall role")

    name: RoleName
    """Same as the file name without .yaml: lowercase letters, digits, - and _."""
    title: str = Field(min_length=1, max_length=80)
    """Short name shown in a role picker."""
    description: str = Field(min_length=1, max_length=500)
    """One or two sentences for the role picker."""
    model: ModelSettings = Field(default_factory=ModelSettings)
    """OpenAI Realtime settings."""
    limits: Limits = Field(default_factory=Limits)
    """Session limits."""
    variables: dict[Annotated[str, Field(pattern=VARIABLE_NAME)], Variable] = Field(default_factory=dict)
    """Template variables, filled from dispatch metadata vars."""
    include: list[Annotated[str, Field(pattern=ROLE_NAME)]] = Field(default_factory=list)
    """Fragments from roles/fragments/ to merge in (their instructions, then their tools)."""
    instructions: Instructions
    """The system prompt: text or {file: prompts/NAME.md}; may use {{ variable }}."""
    greeting: Annotated[
        Greeting | None, BeforeValidator(_greeting_shorthand, json_schema_input_type=str | Greeting | None)
    ] = None
    """What the agent does on arrival; a plain string means {instructions: ...}; absent: wait for the user."""
    tools: list[Tool] = Field(default_factory=list)
    """Tools the model can call."""


# ---------------------------------------------------------------------------------------------- role


@dataclass(frozen=True)
class RenderedRole:
    """Instructions and greeting with the variables filled in."""

    instructions: str
    greeting: Greeting | None


class Role(BaseModel):
    """A loaded, valid role: prompt files read, fragments merged, references checked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    title: str
    description: str
    model: ModelSettings
    limits: Limits
    variables: dict[str, Variable]
    instructions: str
    """The full instruction template (role, then fragments), not yet rendered."""
    greeting: Greeting | None
    tools: tuple[FrontendTool | HttpTool | HandoffTool | BuiltinTool, ...]
    source: str
    """The role file."""
    files: tuple[str, ...]
    """Every file the role was built from (role file, prompt files, fragments)."""

    def tool(self, name: str) -> FrontendTool | HttpTool | HandoffTool | BuiltinTool:
        """The tool called `name` (KeyError if none)."""
        for tool in self.tools:
            if tool.name == name:
                return tool
        raise KeyError(name)

    @property
    def handoff_targets(self) -> list[str]:
        """Roles this role can hand over to."""
        return [tool.target for tool in self.tools if isinstance(tool, HandoffTool)]

    def render(self, variables: Mapping[str, object] | None = None) -> RenderedRole:
        """Fill `{{ var }}` from `variables` (dispatch metadata `vars`) over the defaults.

        Raises `RoleRenderError` for unknown names, non-string/number values, over-long values, or a
        required variable left out.
        """
        values = template.resolve_values(self.variables, variables or {}, file=self.source)
        greeting = self.greeting
        if greeting is not None:
            greeting = Greeting(
                instructions=None
                if greeting.instructions is None
                else template.render(greeting.instructions, values),
                say=None if greeting.say is None else template.render(greeting.say, values),
            )
        return RenderedRole(instructions=template.render(self.instructions, values), greeting=greeting)
