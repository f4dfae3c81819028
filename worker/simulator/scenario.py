"""Scenario files: YAML that scripts what the simulated model says and which tools it calls.

    greeting: "Hi! What shall we cook?"      # reply to a response with no new user input
    fallback: "I only know the demo. You said: {text}"   # when no turn fits ({text}: user's words)
    turns:
      - match: "pasta|spaghetti"             # regex searched in the user's text; reusable
        say: "Pasta it is."
      - transcript: "Show me a recipe"       # no `match`: used once, in file order;
        say: "Here is one."                  #   `transcript` is reported for an audio turn
        calls: [{name: show_recipe, arguments: {id: carbonara}}]
        then:                                # after the tool output, on the next response.create
          - say: "The recipe is on screen."

Loaded with `yaml.safe_load` and validated by pydantic models that forbid unknown keys; every
error names the file, the line and the field (`ScenarioError`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class ScenarioError(ValueError):
    """A scenario file that cannot be used: `file:line: field: message`."""

    def __init__(self, message: str, *, file: str, line: int | None = None, field: str | None = None) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.message = message
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolCallSpec(_Model):
    """One tool call the model makes."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    arguments: dict[str, Any] = Field(default_factory=dict)


class Step(_Model):
    """What the model does in one response: say something, call tools, or both."""

    say: str | None = None
    calls: tuple[ToolCallSpec, ...] = ()

    @model_validator(mode="after")
    def _not_empty(self) -> Step:
        if not self.say and not self.calls:
            raise ValueError("a step needs `say`, `calls` or both")
        return self


class Turn(Step):
    """A user turn and the model's answer, plus the steps that follow each round of tool outputs."""

    match: str | None = None
    """Regex searched (case-insensitive) in the user's text. Matching turns can fire many times;
    turns without `match` are used once each, in file order."""
    transcript: str | None = None
    """The transcript reported for the user's audio when this turn answers an audio turn."""
    then: tuple[Step, ...] = ()

    @field_validator("match")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    def matches(self, text: str) -> bool:
        """Whether this turn's `match` is found in `text`."""
        return self.match is not None and re.search(self.match, text, re.IGNORECASE) is not None


class Scenario(_Model):
    """A scripted conversation for the simulator."""

    greeting: str | None = None
    fallback: str | None = None
    turns: tuple[Turn, ...] = ()

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        """Read and validate a scenario file."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(f"cannot read the file: {exc}", file=str(p)) from None
        return cls.from_yaml(text, source=str(p))

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<scenario>") -> Scenario:
        """Validate scenario YAML; `source` names it in errors."""
        try:
            data = yaml.safe_load(text)
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            raise ScenarioError(
                f"invalid YAML: {getattr(exc, 'problem', exc)}", file=source, line=line
            ) from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ScenarioError(
                "the top level must be a mapping (greeting, fallback, turns)", file=source, line=1
            )
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = tuple(err["loc"])
            field = ".".join(str(p) for p in loc) or None
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = "unknown field"
            line = _line_of(root, loc, key=err["type"] == "extra_forbidden")
            raise ScenarioError(message, file=source, line=line, field=field) from None


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...], *, key: bool) -> int | None:
    """The 1-based line of the YAML node at `loc` (of its key when `key`), or of its closest parent."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for i, part in enumerate(loc):
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(part):
                    last = i == len(loc) - 1
                    child = k if (key and last) else v
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            return line
        node = child
        line = node.start_mark.line + 1
    return line
