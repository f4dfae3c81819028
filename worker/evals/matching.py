"""Does what happened match what was expected? Pure functions over plain values.

- Argument values: equal (numbers by value, `true` is not `1`); a mapping matches when every key it
  names matches (extra keys in the call are fine); lists match item by item.
- Argument patterns: a regular expression searched, case-insensitively, in the argument's text (a
  non-text argument is searched in its JSON).
- Reply words: case-insensitive, whole words (`red` does not match `ready`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any


def value_matches(actual: Any, expected: Any) -> bool:
    """Whether `actual` matches `expected` (see the module docstring)."""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and value_matches(actual[key], value) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(value_matches(a, e) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is type(expected) and actual == expected
    return bool(actual == expected)


def argument_problems(
    arguments: Any, values: Mapping[str, Any] | None = None, patterns: Mapping[str, str] | None = None
) -> list[str]:
    """One line per expected argument that the call's `arguments` do not match; [] when all match."""
    if not isinstance(arguments, Mapping):
        return [f"the arguments are not an object: {shown(arguments)}"]
    problems = []
    for name, expected in (values or {}).items():
        if name not in arguments:
            problems.append(f"{name} is missing (expected {shown(expected)})")
        elif not value_matches(arguments[name], expected):
            problems.append(f"{name} is {shown(arguments[name])}, expected {shown(expected)}")
    for name, pattern in (patterns or {}).items():
        if name not in arguments:
            problems.append(f"{name} is missing (expected to match /{pattern}/)")
            continue
        value = arguments[name]
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if re.search(pattern, text, re.IGNORECASE) is None:
            problems.append(f"{name} is {shown(value)}, which does not match /{pattern}/")
    return problems


def _word_pattern(word: str) -> re.Pattern[str]:
    start = r"\b" if re.match(r"\w", word) else ""
    end = r"\b" if re.search(r"\w$", word) else ""
    return re.compile(start + re.escape(word.strip()) + end, re.IGNORECASE)


def words_missing(text: str, words: Sequence[str]) -> list[str]:
    """The words (or phrases) that do not occur in `text`."""
    return [w for w in words if _word_pattern(w.strip()).search(text) is None]


def words_present(text: str, words: Sequence[str]) -> list[str]:
    """The words (or phrases) that occur in `text`."""
    return [w for w in words if _word_pattern(w.strip()).search(text) is not None]


def count_responses(kinds: Sequence[str]) -> int:
    """Model responses in one user turn, from its items in order (`message`, `function_call`,
    `function_call_output`): one, plus one each time the model goes on after tool results."""
    if not kinds:
        return 0
    count = 1
    for previous, current in pairwise(kinds):
        if previous == "function_call_output" and current != "function_call_output":
            count += 1
    return count


def shown(value: Any, limit: int = 80) -> str:
    """A value as compact JSON for messages, cut at `limit` characters."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
