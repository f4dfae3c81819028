"""JSON Schemas written elsewhere, made into tool parameters: an MCP server's input schemas and the
schemas derived from a Python function's type hints.

Annotations the model has no use for (`title`, `$schema`, `examples`, ...) are dropped, local `$ref`s
to `$defs` are inlined (a recursive one cannot be), and the result is checked exactly like a role
file's `parameters` (`worker.roles.parameters`): a schema OpenAI function calling would not take is
refused with the path of each problem, never offered to the model.
"""

from __future__ import annotations

from typing import Any

from worker.roles import parameters

DROPPED = frozenset(
    {"title", "$schema", "$id", "$comment", "examples", "deprecated", "readOnly", "writeOnly"}
)
"""Annotations that do not constrain arguments: removed wherever they appear as keywords."""
_DEFS = ("$defs", "definitions")
MAX_DEPTH = 64


def imported(schema: Any) -> tuple[dict[str, Any], list[str]]:
    """`schema` as tool parameters, and what is wrong with them (`path: message` each; empty: usable)."""
    if not isinstance(schema, dict):
        return {}, [f"(schema): expected a JSON Schema object, found {type(schema).__name__}"]
    defs: dict[str, Any] = {}
    for key in _DEFS:
        found = schema.get(key)
        if isinstance(found, dict):
            defs.update({f"#/{key}/{name}": value for name, value in found.items()})
    unusable: list[str] = []
    result = _Inliner(defs, unusable).inline(schema, (), 0)
    if unusable:
        return {}, unusable[:1]
    assert isinstance(result, dict)
    problems = [f"{_path(p.path)}: {p.message}" for p in parameters.check(result)]
    return result, problems


class _Inliner:
    """Writes out local `$ref`s and drops annotations; notes in `unusable` what cannot be written out."""

    def __init__(self, defs: dict[str, Any], unusable: list[str]) -> None:
        self.defs = defs
        self.unusable = unusable

    def inline(self, node: Any, seen: tuple[str, ...], depth: int) -> Any:
        if depth > MAX_DEPTH:
            self.unusable.append(f"(schema): nested deeper than {MAX_DEPTH} levels")
            return {}
        if isinstance(node, list):
            return [self.inline(item, seen, depth + 1) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in seen or ref not in self.defs:
                why = "refers to itself" if ref in seen else "is not a local definition"
                self.unusable.append(f"$ref {ref}: {why}, so it cannot be written out for the model")
                return {}
            target = self.inline(self.defs[ref], (*seen, ref), depth + 1)
            siblings = self.inline({k: v for k, v in node.items() if k != "$ref"}, seen, depth + 1)
            return {**target, **siblings} if isinstance(target, dict) else target
        all_of = node.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
            # pydantic's way of describing a field whose type is a $ref
            merged = {**{k: v for k, v in node.items() if k != "allOf"}, **all_of[0]}
            return self.inline(merged, seen, depth + 1)
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in DROPPED or key in _DEFS:
                continue
            if key == "properties" and isinstance(value, dict):  # property names are not keywords
                out[key] = {name: self.inline(sub, seen, depth + 1) for name, sub in value.items()}
            else:
                out[key] = self.inline(value, seen, depth + 1)
        return out


def _path(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path) or "(schema)"
