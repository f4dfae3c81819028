"""`{{ name }}` substitution and nothing else: no expressions, no attribute access, no filters, no code.

Placeholders are checked when a role loads (unknown names are errors then, not surprises in a call) and
filled in one pass at run time, so a value that itself contains `{{ x }}` stays as typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from worker.roles.errors import RoleRenderError

MAX_VALUE_CHARS = 500
"""Longest value accepted for one variable at run time."""

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
        values[name] = _as_text(value, file=file, field=field)
    for name, variable in declared.items():
        if name not in values:
            if variable.default is None:
                raise RoleRenderError(
                    "required variable not given (it has no default)", file=file, field=f"vars.{name}"
                )
            values[name] = _as_text(variable.default, file=file, field=f"vars.{name}")
    return values


def _as_text(value: Any, *, file: str, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RoleRenderError(
            f"expected a string or a number, found {type(value).__name__}", file=file, field=field
        )
    text = value if isinstance(value, str) else repr(value)
    if len(text) > MAX_VALUE_CHARS:
        raise RoleRenderError(
            f"value is {len(text)} characters long; at most {MAX_VALUE_CHARS} allowed", file=file, field=field
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch != " " for ch in text):
        raise RoleRenderError(
            "value contains control characters (newlines, tabs, ...)", file=file, field=field
        )
    return text
