"""Validate a model's tool arguments against the tool's JSON Schema before anything runs.

livekit-agents passes raw-schema tools whatever JSON the model produced; the model sometimes
omits a required field or sends a string for a number. The message names each problem by path so
the model can correct itself on the next try.

The check means what the page's check means (Ajv with ajv-formats): `format` is asserted, with the
page's definitions (`worker.tools.formats`), and `pattern` runs on RE2, in linear time, so a pattern a
role author wrote cannot stall the session's event loop whatever the model sends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from livekit.agents.llm import ToolError

from worker.roles import regex
from worker.tools.formats import format_checker

MAX_REPORTED = 3


def _re2_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """The `pattern` keyword (ECMA-262 semantics: a match anywhere), run by RE2 instead of `re`."""
    if not validator.is_type(instance, "string"):
        return
    try:
        compiled = regex.compile(pattern)
    except regex.RegexError:  # the role loader refuses these; a schema from elsewhere may have one
        yield ValidationError(f"cannot be checked against the pattern {pattern!r}")
        return
    if compiled.search(instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_Validator = validators.extend(Draft202012Validator, {"pattern": _re2_pattern})
_FORMATS = format_checker()


class ArgumentValidator:
    """A compiled validator for one tool's `parameters` schema."""

    def __init__(self, tool_name: str, schema: Mapping[str, Any]) -> None:
        self.tool_name = tool_name
        self._validator = _Validator(dict(schema), format_checker=_FORMATS)

    def problems(self, arguments: Any) -> list[str]:
        """Each violation as `path: message`, most specific first."""
        errors = sorted(
            self._validator.iter_errors(arguments), key=lambda e: (len(e.absolute_path), str(e.message))
        )
        out = []
        for err in errors:
            path = ".".join(str(p) for p in err.absolute_path) or "(arguments)"
            out.append(f"{path}: {_short(err.message)}")
        return out

    def check(self, arguments: Any) -> dict[str, Any]:
        """Return the arguments as a dict, or raise ToolError saying what is wrong with them."""
        if isinstance(arguments, str | bytes):
            try:
                arguments = json.loads(arguments or "{}")
            except json.JSONDecodeError as exc:
                raise ToolError(f"invalid arguments for {self.tool_name}: not JSON ({exc.msg})") from None
            except RecursionError:  # json recurses per nesting level
                raise ToolError(f"invalid arguments for {self.tool_name}: nested too deeply") from None
        problems = self.problems(arguments)
        if problems:
            more = f" (and {len(problems) - MAX_REPORTED} more)" if len(problems) > MAX_REPORTED else ""
            raise ToolError(
                f"invalid arguments for {self.tool_name}: " + "; ".join(problems[:MAX_REPORTED]) + more
            )
        assert isinstance(arguments, dict)
        return arguments


def _short(message: str, limit: int = 160) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"
