"""Regular expressions written by role authors, run by RE2: linear time, whatever the pattern.

Python's `re` backtracks: `^(a+)+$` takes seconds on a few dozen characters, and a tool argument or a
variable is checked on the job's event loop. RE2 never backtracks; in exchange it refuses backreferences
and lookaround, which `compile` reports as a `RegexError` the loader turns into a role error.

Tool parameter patterns also run in the page (Ajv: JavaScript `RegExp` with the `u` flag), so
`javascript_problem` names RE2 syntax JavaScript reads differently or not at all.
"""

from __future__ import annotations

import functools
from typing import Any, Protocol, cast

import re2

from worker.errors import RoleCallError

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print every refused pattern to stderr; we report it ourselves
_CACHE_SIZE = 512


class RegexError(RoleCallError, ValueError):
    """RE2 cannot compile the pattern; the text says why. Also a `ValueError` (a bad value)."""


class Pattern(Protocol):
    """A compiled RE2 pattern (the subset of its API we use)."""

    def search(self, text: str) -> Any:
        """A match anywhere in `text`, or None."""

    def fullmatch(self, text: str) -> Any:
        """A match of the whole of `text`, or None."""


@functools.lru_cache(maxsize=_CACHE_SIZE)
def compile(pattern: str) -> Pattern:
    """`pattern` compiled by RE2 (cached), or `RegexError`."""
    try:
        return cast(Pattern, re2.compile(pattern, _OPTIONS))
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid"
        raise RegexError(reason.decode() if isinstance(reason, bytes) else str(reason)) from None


REFUSED_HINT = (
    "patterns run on RE2, which never backtracks (so no pattern can stall a session): it has no "
    "backreferences (\\1) or lookaround ((?=, (?!, (?<=, (?<!); rewrite the pattern without them"
)


def javascript_problem(pattern: str) -> str | None:
    """RE2 syntax the page's JavaScript `RegExp` (u flag) would refuse or read otherwise; None if none."""
    index = 0
    in_class = False
    while index < len(pattern):
        ch = pattern[index]
        if ch == "\\" and index + 1 < len(pattern):
            escaped = pattern[index + 1]
            if escaped in "AzQEC":
                return f"\\{escaped} is RE2 syntax, not JavaScript"
            if escaped in "pP" and pattern[index + 2 : index + 3] != "{":
                return f"write \\{escaped}{{...}} with braces (JavaScript needs them)"
            index += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern.startswith("[:", index + 1):
                return "[[:class:]] is RE2 syntax; JavaScript reads it as a plain character class"
        elif ch == "(" and pattern.startswith("(?", index):
            following = pattern[index + 2 : index + 3]
            if following not in (":", "<") or pattern.startswith("(?P<", index):
                return (
                    f"{pattern[index : index + 4]}... is RE2 syntax; JavaScript has no inline flags or (?P<"
                )
        index += 1
    return None
