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
      - event: "ingredient_checked"          # answers a UI event from the page (regex on its name);
        say: "Got it, the {ingredient} is ready."   # {field}: a field of the event's payload
    out_of_band:                             # responses with conversation: "none", matched by metadata
      - metadata: {rolecall: analysis}       #   every key given must be in the response's metadata
        json: {summary: "The user chose pasta."}   # the reply's text: this as JSON (or `say: TEXT`)

Read as safely as role files (`worker.yamlfile`: duplicate keys, tags and YAML 1.1 surprises refused)
and validated by pydantic models that forbid unknown keys; every error names the file, the line, the
column and the field (`ScenarioError`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from worker.errors import FileError
from worker.yamlfile import parse, read_text


class ScenarioError(FileError, ValueError):
    """A scenario file that cannot be used: `file:line:column: field: message`.

    Also a `ValueError`, as it was before the package had one error tree.
    """


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
    turns without `match` (or `event`) are used once each, in file order."""
    event: str | None = None
    """Regex matched against the name of a UI event the worker put in the conversation; the turn
    answers that event (every time), and `{field}` in `say` is the payload's field."""
    transcript: str | None = None
    """The transcript reported for the user's audio when this turn answers an audio turn."""
    then: tuple[Step, ...] = ()

    @field_validator("match", "event")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_trigger(self) -> Turn:
        if self.event is not None and (self.match is not None or self.transcript is not None):
            raise ValueError("an event turn answers a UI event: it takes no match or transcript")
        return self

    def matches(self, text: str) -> bool:
        """Whether this turn's `match` is found in `text`."""
        return self.match is not None and re.search(self.match, text, re.IGNORECASE) is not None

    def answers_event(self, name: str) -> bool:
        """Whether this turn answers the UI event `name` (its `event` regex matches the whole name)."""
        return self.event is not None and re.fullmatch(self.event, name) is not None


class OutOfBand(_Model):
    """The reply to an out-of-band response (`conversation: "none"`) whose metadata matches."""

    metadata: dict[str, str] = Field(default_factory=dict)
    """Keys and values the response's `metadata` must have (others may be there too)."""
    say: str | None = None
    """The reply's text."""
    json_: Any = Field(None, alias="json")
    """Or: the reply's text is this value as JSON (written as YAML here)."""

    @model_validator(mode="after")
    def _one_reply(self) -> OutOfBand:
        if (self.say is None) == (self.json_ is None):
            raise ValueError("an out_of_band reply needs exactly one of `say` or `json`")
        return self

    def matches(self, metadata: object) -> bool:
        """Whether a response with this `metadata` gets this reply."""
        given = metadata if isinstance(metadata, dict) else {}
        return all(given.get(k) == v for k, v in self.metadata.items())

    @property
    def text(self) -> str:
        """The reply's text."""
        if self.say is not None:
            return self.say
        return json.dumps(self.json_, separators=(",", ":"), ensure_ascii=False)


class Scenario(_Model):
    """A scripted conversation for the simulator."""

    greeting: str | None = None
    fallback: str | None = None
    turns: tuple[Turn, ...] = ()
    out_of_band: tuple[OutOfBand, ...] = ()
    """Replies to out-of-band responses, the first whose metadata matches (e.g. RoleCall's analysis)."""

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        """Read and validate a scenario file."""
        p = Path(path)
        try:
            text = read_text(str(p), str(p), error=ScenarioError)
        except OSError as exc:
            raise ScenarioError(f"cannot read the file: {exc}", file=str(p)) from None
        return cls.from_yaml(text, source=str(p))

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<scenario>") -> Scenario:
        """Validate scenario YAML (read as safely as role files: `worker.yamlfile`); `source` names it in
        errors."""
        doc = parse(text, source, error=ScenarioError)
        data = {} if doc.data is None else doc.data
        if not isinstance(data, dict):
            raise ScenarioError(
                "the top level must be a mapping (greeting, fallback, turns)", file=source, line=1, column=1
            )
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = tuple(err["loc"])
            message = err["msg"].removeprefix("Value error, ")
            unknown = err["type"] == "extra_forbidden"
            if unknown:
                message = "unknown field"
            line, column = doc.position(loc, key=unknown)
            field = ".".join(str(p) for p in loc)
            raise ScenarioError(message, file=source, line=line, column=column, field=field) from None
