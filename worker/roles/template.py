"""`{{ name }}` substitution and nothing else: no expressions, no attribute access, no filters, no code.

Placeholders are checked when a role loads (unknown names are errors then, not surprises in a call) and
filled in one pass at run time, so a value that itself contains `{{ x }}` stays as typed. Values are
checked against their variable's `type`, `enum`, `pattern` and `max_length` here, where both the web
backend (before it mints a token) and the worker (before the session starts) render the role.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from worker.roles import regex
from worker.roles.errors import RoleRenderError

MAX_VALUE_CHARS = 500
"""Largest `max_length` a variable may declare."""
DEFAULT_MAX_CHARS = 100
"""A variable's `max_length` when it declares none."""

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*")


@dataclass(frozen=True)
class Placeholder:
    """A `{{ name }}` at `offset` (characters into the text)."""

    name: str
    offset: int


@dataclass(frozen=True)
class TemplateProblem:
    """Something in the text that is not a valid placeholder."""

    message: str
    offset: int


def scan(text: str) -> tuple[list[Placeholder], list[TemplateProblem]]:
    """Find every placeholder, and every `{{ ... }}` that is not one."""
    found: list[Placeholder] = []
    problems: list[TemplateProblem] = []
    end = 0
    for match in _PLACEHOLDER.finditer(text):
        name = _NAME.fullmatch(match.group(1))
        if name:
            found.append(Placeholder(name.group(1), match.start()))
        else:
            inner = " ".join(match.group(1).split())
            problems.append(
                TemplateProblem(
                    f"{{{{ {inner} }}}} is not a variable; only {{{{ name }}}} is supported", match.start()
                )
            )
        end = match.end()
    rest = text.find("{{", end)
    if rest != -1:
        problems.append(TemplateProblem("{{ is never closed with }}", rest))
    return found, problems


def render(text: str, values: Mapping[str, str]) -> str:
    """Replace each placeholder by its value, in one pass (values are never re-scanned)."""
    return _PLACEHOLDER.sub(lambda m: values[m.group(1).strip()], text)


class _Declared(Protocol):
    @property
    def default(self) -> str | int | float | None: ...
    @property
    def type(self) -> str | None: ...
    @property
    def enum(self) -> list[str | int | float] | None: ...
    @property
    def pattern(self) -> str | None: ...
    @property
    def max_length(self) -> int: ...


def resolve_values(
    declared: Mapping[str, _Declared], given: Mapping[str, object], *, file: str = ""
) -> dict[str, str]:
    """Merge run-time `given` values over the declared defaults, rejecting anything unexpected."""
    valid = ", ".join(sorted(declared)) or "(none declared)"
    values: dict[str, str] = {}
    for name, value in given.items():
        field = f"vars.{name}"
        if name not in declared:
            raise RoleRenderError(
                f"unknown variable {name!r}", file=file, field=field, hint=f"declared: {valid}"
            )
        problem = value_problem(declared[name], value)
        if problem:
            raise RoleRenderError(problem, file=file, field=field)
        assert isinstance(value, str | int | float)  # value_problem refused anything else
        values[name] = as_text(value)
    for name, variable in declared.items():
        if name not in values:
            if variable.default is None:
                raise RoleRenderError(
                    "required variable not given (it has no default)", file=file, field=f"vars.{name}"
                )
            values[name] = as_text(variable.default)  # checked when the role loaded
    return values


def as_text(value: str | int | float) -> str:
    """A value as it is written into the text."""
    return value if isinstance(value, str) else repr(value)


_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "number": (int, float)}
_TYPE_WORDS = {"string": "a string", "integer": "an integer", "number": "a number"}


def value_problem(variable: _Declared, value: object, *, check_enum: bool = True) -> str | None:
    """What is wrong with `value` for `variable` (type, length, control characters, enum, pattern)."""
    wanted = _TYPES.get(variable.type or "", (str, int, float))
    if isinstance(value, bool) or not isinstance(value, wanted):
        expected = _TYPE_WORDS.get(variable.type or "", "a string or a number")
        return f"expected {expected}, found {type(value).__name__}"
    assert isinstance(value, str | int | float)
    text = as_text(value)
    if len(text) > variable.max_length:
        return f"value is {len(text)} characters long; at most {variable.max_length} allowed"
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch != " " for ch in text):
        return "value contains control characters (newlines, tabs, ...)"
    shown = repr(text) if len(text) <= 40 else repr(text[:37] + "...")
    if check_enum and variable.enum is not None and text not in {as_text(item) for item in variable.enum}:
        return f"value {shown} is not one of: {', '.join(as_text(item) for item in variable.enum)}"
    if variable.pattern is not None and not regex.compile(variable.pattern).fullmatch(text):
        return f"value {shown} does not match the pattern {variable.pattern}"
    return None
