"""The role file format as pydantic models, and the resolved `Role` the worker runs.

`RoleFile` and `FragmentFile` describe what may be written in YAML (strict types, unknown keys
forbidden); the JSON Schema for editors is generated from them. `Role` is what loading produces: prompt
files read, fragments merged, every cross-file reference checked. The `model:` section lives in
`model_settings`, the tools in `tool_specs`; every name stays importable from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, field_validator
from pydantic import model_validator as _model_validator

from worker.roles import regex, template
from worker.roles._base import ENV_NAME, ROLE_NAME, TOOL_NAME, VARIABLE_NAME, FileModel, RoleName
from worker.roles.analysis import Analysis
from worker.roles.event_specs import EVENT_NAME, RateLimit, Respond, UiEvent
from worker.roles.model_settings import (
    VOICES,
    InputTranscription,
    ModelSettings,
    SemanticVad,
    ServerVad,
    TurnDetection,
    Voice,
)
from worker.roles.tool_specs import (
    BUILTINS,
    RPC_METHOD_MAX_BYTES,
    TOOL_KINDS,
    BuiltinTool,
    FrontendTool,
    HandoffTool,
    HttpTool,
    McpServer,
    McpTool,
    PythonTool,
    RoleTool,
    Tool,
)
from worker.yamlfile import HINTED_ERROR, hinted

__all__ = [
    "BUILTINS",
    "ENV_NAME",
    "EVENT_NAME",
    "HINTED_ERROR",
    "ROLE_NAME",
    "RPC_METHOD_MAX_BYTES",
    "TOOL_KINDS",
    "TOOL_NAME",
    "VARIABLE_NAME",
    "VOICES",
    "Analysis",
    "BuiltinTool",
    "FragmentFile",
    "FrontendTool",
    "Greeting",
    "HandoffTool",
    "HttpTool",
    "InputTranscription",
    "Instructions",
    "Limits",
    "McpServer",
    "McpTool",
    "ModelSettings",
    "PromptFile",
    "PythonTool",
    "RateLimit",
    "RenderedRole",
    "Respond",
    "Role",
    "RoleFile",
    "RoleName",
    "RoleTool",
    "SemanticVad",
    "ServerVad",
    "Tool",
    "TurnDetection",
    "UiEvent",
    "Variable",
    "Voice",
]


class Limits(FileModel):
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


class Variable(FileModel):
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
                raise hinted(f"pattern is not supported: {exc}", regex.REFUSED_HINT) from None
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


class PromptFile(FileModel):
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


class Greeting(FileModel):
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


# ---------------------------------------------------------------------------------------------- files


class FragmentFile(FileModel):
    """`roles/fragments/<name>.yaml`: instructions and tools shared between roles."""

    model_config = ConfigDict(title="RoleCall fragment")

    description: str = ""
    """What the fragment is for."""
    instructions: Instructions | None = None
    """Appended after the role's own instructions (text or {file: ...})."""
    tools: list[Tool] = Field(default_factory=list)
    """Added to the role's tools."""


class RoleFile(FileModel):
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
    analysis: Analysis | None = None
    """Post-call analysis for the report: a summary, structured data, success criteria."""
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
    events: list[UiEvent] = Field(default_factory=list)
    """What the user does on screen that the agent should know (page -> agent, as context)."""


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
    analysis: Analysis | None = None
    variables: dict[str, Variable]
    instructions: str
    """The full instruction template (role, then fragments), not yet rendered."""
    greeting: Greeting | None
    tools: tuple[RoleTool, ...]
    events: tuple[UiEvent, ...] = ()
    """UI events the page may send while this role is active."""
    source: str
    """The role file."""
    files: tuple[str, ...]
    """Every file the role was built from (role file, prompt files, fragments)."""
    version: str = ""
    """Content hash of those files (`worker.roles.version`): which prompt produced a call."""

    def tool(self, name: str) -> RoleTool:
        """The tool called `name` (KeyError if none)."""
        for tool in self.tools:
            if tool.name == name:
                return tool
        raise KeyError(name)

    def event(self, name: str) -> UiEvent | None:
        """The UI event called `name`, if the role accepts one."""
        return next((e for e in self.events if e.name == name), None)

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
