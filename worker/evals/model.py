"""Eval files (`roles/evals/<role>.yaml`): conversations with a role, and what each turn should do.

    role: cooking-guide                 # default: the file name
    conversations:
      - name: finds and shows a recipe
        turns:
          - user: "I'd like to cook pasta tonight."
            expect:
              - tool: find_recipes
                patterns: {query: pasta}           # regex, searched case-insensitively
                example: {query: "quick pasta"}    # what the offline simulator sends
              - reply_contains: [carbonara]
          - event: {name: ingredient_checked, payload: {ingredient: spaghetti, checked: true}}
            expect:                                # a UI event from the page instead of words
              - reply_contains: [spaghetti]

Read like role files (`worker.yamlfile`): safe YAML (duplicate keys, tags and YAML 1.1 surprises
refused), pydantic models that forbid unknown keys, and every error naming the file, line, column and
field (`EvalFileError`).
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from worker.errors import FileError
from worker.evals.matching import shown
from worker.roles.models import EVENT_NAME, ROLE_NAME, TOOL_NAME
from worker.yamlfile import Document, display_path, inside, list_named, parse, read_text, validation_errors

MAX_CLIP_BYTES = 50_000_000
"""Audio turns are short utterances; a bigger file is a mistake (about 17 minutes at 24 kHz)."""

EVALS_DIR = "evals"
"""Where eval files live, under the roles directory."""
EVAL_SUFFIX = ".yaml"
ROOT_NAME = "the evals directory"
"""How path errors name the folder of the eval file (audio clips must stay inside it)."""

KINDS = ("tool", "no_tool", "handoff", "reply_contains", "reply_excludes", "max_turns")
"""The expectation kinds; each expectation names exactly one."""

JsonValue = Any


class EvalFileError(FileError):
    """An eval file that cannot be used; `errors` holds every problem (`FileError`s, one per line of
    `str()`), and the error itself is located where the first one is."""

    def __init__(self, errors: Sequence[FileError]) -> None:
        self.errors = list(errors)
        first = self.errors[0] if self.errors else FileError("")
        super().__init__(
            "\n".join(str(e) for e in self.errors),
            file=first.file,
            line=first.line,
            column=first.column,
            field=first.field,
        )

    def __str__(self) -> str:
        return self.message


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class Expect(_Model):
    """One expectation of a turn. Exactly one of the kind fields is set."""

    tool: str | None = Field(None, pattern=TOOL_NAME)
    """The model calls this tool in this turn, with valid arguments and a result that is not an error."""
    arguments: dict[str, JsonValue] | None = None
    """(tool, handoff) Argument values the call must carry; nested mappings match on the keys given."""
    patterns: dict[str, str] | None = None
    """(tool, handoff) Regular expressions searched (case-insensitively) in these arguments' text."""
    example: dict[str, JsonValue] | None = None
    """(tool, handoff) Extra argument values the offline simulator sends (for `patterns`, required ones)."""
    no_tool: bool | list[str] | None = None
    """`true`: no tool is called in this turn; a list: none of these tools is."""
    handoff: str | None = Field(None, pattern=ROLE_NAME)
    """The session moves to this role during this turn."""
    reply_contains: list[str] | None = None
    """Every word or phrase appears in the agent's reply to this turn (case-insensitive)."""
    reply_excludes: list[str] | None = None
    """None of these words or phrases appears in the reply (case-insensitive)."""
    max_turns: int | None = Field(None, ge=1, le=20)
    """The model answers this user turn in at most this many responses (one, plus one per round of
    tool results it answers)."""

    @field_validator("reply_contains", "reply_excludes", mode="before")
    @classmethod
    def _one_word(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("reply_contains", "reply_excludes")
    @classmethod
    def _non_empty_words(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or any(not w.strip() for w in value)):
            raise ValueError("expected one or more non-empty words or phrases")
        return value

    @field_validator("patterns")
    @classmethod
    def _valid_patterns(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for name, pattern in (value or {}).items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{name}: not a valid regular expression: {exc}") from None
        return value

    @field_validator("no_tool")
    @classmethod
    def _no_tool_value(cls, value: bool | list[str] | None) -> bool | list[str] | None:
        if value is False:
            raise ValueError("expected true, or a list of tool names")
        if isinstance(value, list) and (not value or not all(re.match(TOOL_NAME, n) for n in value)):
            raise ValueError("expected true, or a non-empty list of tool names")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Expect:
        given = [k for k in KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            found = ", ".join(given) if given else "none"
            raise ValueError(f"an expectation needs exactly one of {', '.join(KINDS)} (found: {found})")
        if self.kind not in ("tool", "handoff"):
            extra = [k for k in ("arguments", "patterns", "example") if getattr(self, k) is not None]
            if extra:
                raise ValueError(f"{', '.join(extra)} only go with tool or handoff")
        return self

    @property
    def kind(self) -> str:
        """Which expectation this is (one of `KINDS`)."""
        return next(k for k in KINDS if getattr(self, k) is not None)

    def describe(self) -> str:
        """A one-line label for tables: `tool show_recipe {recipe_id: carbonara}`."""
        kind = self.kind
        if kind in ("tool", "handoff"):
            text = f"{kind} {self.tool or self.handoff}"
            parts = [f"{k}={shown(v, 40)}" for k, v in (self.arguments or {}).items()]
            parts += [f"{k}~/{v}/" for k, v in (self.patterns or {}).items()]
            return text + (f" ({', '.join(parts)})" if parts else "")
        if kind == "no_tool":
            return "no tool" if self.no_tool is True else f"no tool of {', '.join(self.no_tool or [])}"
        if kind == "max_turns":
            return f"at most {self.max_turns} model turn{'s' if self.max_turns != 1 else ''}"
        words = self.reply_contains if kind == "reply_contains" else self.reply_excludes
        verb = "reply contains" if kind == "reply_contains" else "reply excludes"
        return f"{verb} {', '.join(repr(w) for w in words or [])}"


class UiEventInput(_Model):
    """A UI event the page sends: what the user did on screen (`events:` in the role)."""

    name: str = Field(pattern=EVENT_NAME)
    """The event's name, as the active role declares it."""
    payload: dict[str, JsonValue] = Field(default_factory=dict)
    """Its data (checked against the event's schema, as the worker checks the page's)."""


class Turn(_Model):
    """One user turn, typed (`user`), spoken (`audio`) or done on screen (`event`), and its expectations."""

    user: str | None = Field(None, min_length=1, max_length=4000)
    """What the user types."""
    audio: str | None = Field(None, min_length=1)
    """A WAV file (PCM16) the user says, relative to roles/evals/."""
    transcript: str | None = Field(None, min_length=1)
    """(audio) What the clip says: the offline simulator reports it as the input transcription."""
    event: UiEventInput | None = None
    """A UI event from the page instead of words; the agent reacts as the event's `respond` says."""
    expect: list[Expect] = Field(default_factory=list)
    """What should happen in this turn; nothing listed only checks that the turn completes."""

    @model_validator(mode="after")
    def _one_input(self) -> Turn:
        if [self.user, self.audio, self.event].count(None) != 2:
            raise ValueError(
                "a turn needs exactly one of user (text), audio (a WAV file) or event (a UI event)"
            )
        if self.transcript is not None and self.audio is None:
            raise ValueError("transcript only goes with audio")
        return self


class Conversation(_Model):
    """A scripted conversation, run from a fresh session."""

    name: str = Field(min_length=1, max_length=200)
    """Shown in reports."""
    variables: dict[str, str | int | float] = Field(default_factory=dict)
    """Role variables for this conversation (over the file's `variables`)."""
    turns: list[Turn] = Field(min_length=1)
    """The user's turns, in order."""


class EvalFile(_Model):
    """The whole eval file."""

    role: str | None = Field(None, pattern=ROLE_NAME)
    """The role the conversations start with; default: the file name."""
    description: str | None = None
    """What these evals cover."""
    variables: dict[str, str | int | float] = Field(default_factory=dict)
    """Role variables (as in the dispatch metadata's `vars`) for every conversation."""
    greet: bool = True
    """Let the agent greet first, as the worker does, before the first user turn."""
    ui: dict[str, JsonValue] = Field(default_factory=dict)
    """The stand-in page's answer per frontend tool name; default `{"ok": true}`."""
    http: Literal["mock", "live"] = "mock"
    """`mock`: http tools POST to a local server answering from `mocks`; `live`: to the role's URL."""
    mocks: dict[str, JsonValue] = Field(default_factory=dict)
    """(http: mock) The JSON response per http tool name; default `{"ok": true}`."""
    conversations: list[Conversation] = Field(min_length=1)
    """The conversations to run."""


class LoadedEval:
    """A valid eval file: the model, where it came from, and its audio clips resolved."""

    def __init__(self, spec: EvalFile, *, file: str, role: str, evals_dir: str, doc: Document) -> None:
        self.spec = spec
        self.file = file
        self.role = role
        self.evals_dir = evals_dir
        self.doc = doc

    def position(self, conversation: int, turn: int | None = None, expect: int | None = None) -> str:
        """`file:line` of a conversation, turn or expectation (for reports)."""
        path: tuple[str | int, ...] = ("conversations", conversation)
        if turn is not None:
            path += ("turns", turn)
            if expect is not None:
                path += ("expect", expect)
        line, _ = self.doc.position(path)
        return f"{self.file}:{line}"

    def audio_path(self, relative: str) -> str:
        """The absolute path of an audio clip (checked inside roles/evals/ when loading)."""
        return inside(self.evals_dir, relative, root_name=ROOT_NAME)


def eval_files(roles_dir: str) -> dict[str, str]:
    """`{stem: path}` of every `roles/evals/*.yaml`."""
    return list_named(os.path.join(roles_dir, EVALS_DIR), EVAL_SUFFIX, ROLE_NAME)[0]


def load_eval(path: str) -> LoadedEval:
    """Read and validate one eval file; raise `EvalFileError` with every problem found."""
    display = display_path(path)
    evals_dir = os.path.dirname(os.path.abspath(path))
    try:
        doc = parse(read_text(path, display), display)
    except FileError as exc:
        raise EvalFileError([exc]) from None
    except OSError as exc:
        raise EvalFileError(
            [FileError(f"cannot read the file: {exc.strerror or exc}", file=display, line=1, column=1)]
        ) from None
    if not isinstance(doc.data, dict):
        found = "nothing" if doc.data is None else "a list" if isinstance(doc.data, list) else "a value"
        message = f"expected a mapping with role and conversations at the top level, found {found}"
        raise EvalFileError([FileError(message, file=display, line=1, column=1)])
    try:
        spec = EvalFile.model_validate(doc.data)
    except ValidationError as exc:
        raise EvalFileError(validation_errors(exc, doc, EvalFile, error=FileError)) from None
    errors: list[FileError] = []
    for ci, conversation in enumerate(spec.conversations):
        for ti, turn in enumerate(conversation.turns):
            if turn.audio is None:
                continue
            where = ("conversations", ci, "turns", ti, "audio")
            line, column = doc.position(where)
            field = f"conversations[{ci}].turns[{ti}].audio"
            try:
                full = inside(evals_dir, turn.audio, root_name=ROOT_NAME)
            except ValueError as exc:
                errors.append(
                    FileError(
                        str(exc),
                        file=display,
                        line=line,
                        column=column,
                        field=field,
                    )
                )
                continue
            if not os.path.isfile(full):
                errors.append(
                    FileError(
                        f"audio file not found: {turn.audio}",
                        file=display,
                        line=line,
                        column=column,
                        field=field,
                    )
                )
                continue
            problem = _clip_problem(full)
            if problem:
                errors.append(
                    FileError(
                        f"{turn.audio}: {problem} (expected a PCM16 mono WAV file)",
                        file=display,
                        line=line,
                        column=column,
                        field=field,
                    )
                )
    if errors:
        raise EvalFileError(errors)
    stem = os.path.basename(path).removesuffix(EVAL_SUFFIX)
    return LoadedEval(spec, file=display, role=spec.role or stem, evals_dir=evals_dir, doc=doc)


def _clip_problem(path: str) -> str:
    """Why the clip at `path` cannot be played into a session ('' when it can)."""
    from worker.simulator.speech import parse_wav

    try:
        with open(path, "rb") as f:
            pcm, rate = parse_wav(f.read(MAX_CLIP_BYTES + 1))
    except (OSError, ValueError, struct.error) as exc:
        return str(exc) or type(exc).__name__
    if os.path.getsize(path) > MAX_CLIP_BYTES:
        return f"larger than {MAX_CLIP_BYTES // 1_000_000} MB"
    if not 8000 <= rate <= 96000:
        return f"unsupported sample rate {rate}"
    if pcm.size == 0:
        return "no audio in it"
    return ""
