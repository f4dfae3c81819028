"""Checks that a tool's `parameters` is a JSON Schema, and one OpenAI function calling accepts.

Two passes: our walk over the subset OpenAI supports (precise messages, did-you-mean on keywords), then
the Draft 2020-12 meta-schema for whatever the walk did not already report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from worker.roles import regex
from worker.yamlfile import did_you_mean

SUPPORTED_KEYWORDS = (
    "type",
    "properties",
    "required",
    "enum",
    "description",
    "items",
    "additionalProperties",
    "anyOf",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "pattern",
    "format",
    "default",
    "const",
    "minLength",
    "maxLength",
)
"""The JSON Schema keywords OpenAI function calling accepts (and that we pass through)."""
TYPES = ("string", "number", "integer", "boolean", "object", "array", "null")
FORMATS = ("date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid")
"""String formats OpenAI structured outputs support."""

_META = Draft202012Validator(Draft202012Validator.META_SCHEMA)
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


@dataclass(frozen=True)
class Problem:
    """One problem at `path` (relative to `parameters`); `quote` asks the caller to add a quote-it hint."""

    path: tuple[str | int, ...]
    message: str
    hint: str = ""
    quote: bool = False


def check(parameters: Any) -> list[Problem]:
    """Every problem with `parameters` (empty list when it is fine)."""
    if not isinstance(parameters, dict):
        return []  # the model reports the wrong type
    problems = list(_walk(parameters, (), top=True))
    seen = {p.path for p in problems}
    for error in sorted(_META.iter_errors(parameters), key=lambda e: list(map(str, e.absolute_path))):
        path = tuple(error.absolute_path)
        if not any(path[: len(s)] == s for s in seen):
            problems.append(Problem(path, f"not a valid JSON Schema: {error.message}"))
    return problems


def _walk(schema: Any, path: tuple[str | int, ...], *, top: bool = False) -> Iterator[Problem]:
    if not isinstance(schema, dict):
        yield Problem(path, f"expected a schema (a mapping), found {type(schema).__name__}")
        return
    declared = schema.get("type")
    if top and declared != "object":
        found = "no type" if declared is None else f"type {declared!r}"
        yield Problem(
            (*path, "type") if declared is not None else path,
            f"expected type: object at the top level (function arguments are an object), found {found}",
        )
    for key, value in schema.items():
        here = (*path, key)
        if key not in SUPPORTED_KEYWORDS:
            hint = did_you_mean(key, SUPPORTED_KEYWORDS) or "supported: " + ", ".join(SUPPORTED_KEYWORDS)
            yield Problem(here, f"keyword {key!r} is not supported by OpenAI function calling", hint)
        elif key == "type":
            yield from _check_type(value, here)
        elif key == "properties":
            if not isinstance(value, dict):
                yield Problem(here, "expected a mapping of property name to schema")
                continue
            for name, sub in value.items():
                yield from _walk(sub, (*here, name))
        elif key in ("items", "additionalProperties") and not isinstance(value, bool):
            yield from _walk(value, here)
        elif key == "anyOf" and isinstance(value, list):
            for index, sub in enumerate(value):
                yield from _walk(sub, (*here, index))
        elif key == "required" and isinstance(value, list) and isinstance(schema.get("properties"), dict):
            for index, name in enumerate(value):
                if isinstance(name, str) and name not in schema["properties"]:
                    hint = did_you_mean(name, list(schema["properties"]))
                    yield Problem(
                        (*here, index), f"required lists {name!r}, which is not in properties", hint
                    )
        elif key == "format" and isinstance(value, str) and value not in FORMATS:
            yield Problem(here, f"format {value!r} is not supported", "supported: " + ", ".join(FORMATS))
        elif key == "pattern" and isinstance(value, str):
            yield from _check_pattern(value, here)
        elif key in ("enum", "const", "default"):
            yield from _check_values(key, value, declared, here)


def _check_pattern(pattern: str, path: tuple[str | int, ...]) -> Iterator[Problem]:
    # The worker checks arguments with RE2 (linear time), the page with JavaScript's RegExp: a pattern
    # must mean the same to both.
    try:
        regex.compile(pattern)
    except regex.RegexError as exc:
        yield Problem(path, f"pattern is not supported: {exc}", regex.REFUSED_HINT)
        return
    problem = regex.javascript_problem(pattern)
    if problem:
        yield Problem(
            path, f"pattern is not supported: {problem}", "write it in the syntax RE2 and JavaScript share"
        )


def _check_type(value: Any, path: tuple[str | int, ...]) -> Iterator[Problem]:
    listed = (*TYPES, '[TYPE, "null"]')
    if isinstance(value, str):
        if value not in TYPES:
            hint = did_you_mean(value, TYPES)
            yield Problem(path, f"expected one of {', '.join(listed)}, found {value!r}", hint)
        return
    if isinstance(value, list) and len(value) == 2 and "null" in value and all(v in TYPES for v in value):
        return
    yield Problem(
        path, f"expected one of {', '.join(listed)}, found {value!r}", quote=isinstance(value, bool)
    )


def _check_values(key: str, value: Any, declared: Any, path: tuple[str | int, ...]) -> Iterator[Problem]:
    if declared not in _PY_TYPES:
        return
    items = list(enumerate(value)) if key == "enum" and isinstance(value, list) else [(None, value)]
    for index, item in items:
        wanted = _PY_TYPES[declared]
        ok = isinstance(item, wanted) and not (isinstance(item, bool) and bool not in wanted)
        if not ok:
            here = path if index is None else (*path, index)
            shown = json.dumps(item, default=str)
            yield Problem(here, f"{key} value {shown} is not of type {declared}", quote=declared == "string")
