"""Turn pydantic validation errors into `FileError`s that point at the YAML that caused them.

pydantic's `loc` mixes data keys with union tags (`('tools', 2, 'http', 'url')`); we walk it along the
data to recover the real path, look the node up in the document, and phrase the error as
"expected ..., found ..." with a hint (did-you-mean, quote-it) where one helps.
"""

from __future__ import annotations

import datetime
import difflib
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from worker.errors import FileError
from worker.yamlfile._document import Document, Path, implicit_surprise, render_path

_E = TypeVar("_E", bound=FileError)
_MISSING = object()
_EXPECTED = {
    "string_type": "text",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
}
HINTED_ERROR = "hinted"
"""Error type of a validation error with a hint (`hinted`): its context carries `message` and `hint`."""


def hinted(message: str, hint: str) -> PydanticCustomError:
    """An error for a validator to raise, reported as `message (hint: hint)`."""
    return PydanticCustomError(HINTED_ERROR, "{message}", {"message": message, "hint": hint})


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """`did you mean 'x'?` when a choice is close to `word`, else ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def describe(value: Any, node: Any = None, *, text_expected: bool = True) -> str:
    """How a found value is shown to the user (with what YAML made of it, when that is a surprise)."""
    surprise = implicit_surprise(node)
    if surprise and (text_expected or not isinstance(value, int | float) or isinstance(value, bool)):
        return f"{node.value} ({surprise})"
    if value is _MISSING:
        return "nothing"
    if value is None:
        return "null (an empty value)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, datetime.date):
        return f"the date {value.isoformat()}"
    return type(value).__name__


def clean_loc(loc: tuple[str | int, ...], data: Any, tags: tuple[str, ...]) -> tuple[Path, bool, Any]:
    """Drop union tags from `loc`; return (path, whether it names a key, the value found there).

    `tags` are the keys that discriminate tagged unions (`kind`): pydantic puts their value in `loc`.
    """
    path: list[str | int] = []
    value = data
    is_key = False
    tag_used: set[int] = set()
    for index, elem in enumerate(loc):
        last = index == len(loc) - 1
        if elem == "[key]":
            is_key = True
            continue
        if isinstance(value, dict) and isinstance(elem, str):
            found = {value.get(tag) for tag in tags} - {None}
            if elem in found and id(value) not in tag_used and (not last or elem not in value):
                tag_used.add(id(value))
                continue
            if elem in value:
                path.append(elem)
                value = value[elem]
                continue
            if last:
                path.append(elem)
                value = _MISSING
            continue
        if isinstance(value, list) and isinstance(elem, int) and 0 <= elem < len(value):
            path.append(elem)
            value = value[elem]
    if is_key and path:
        value = path[-1]
    return tuple(path), is_key, value


def _unwrap(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _members(tp: Any) -> list[Any]:
    """The members of a union (nested unions flattened, annotations removed); `[tp]` for other types."""
    tp = _unwrap(tp)
    if get_origin(tp) in (Union, types.UnionType):
        return [member for arg in get_args(tp) for member in _members(arg)]
    return [tp]


def _models(tp: Any) -> list[type[BaseModel]]:
    return [m for m in _members(tp) if isinstance(m, type) and issubclass(m, BaseModel)]


@dataclass(frozen=True)
class _Schema:
    """The model the data was validated as, the data, and how the caller words it."""

    root: type[BaseModel]
    data: Any
    tags: tuple[str, ...]
    """The keys of `root`'s tagged unions (`kind`): pydantic puts their value in an error's `loc`."""
    expected_at: Mapping[Path, str]

    def model_for(self, tp: Any, value: Any) -> Any:
        """The BaseModel class `tp` stands for, given the data (resolving unions by their tag)."""
        tp = _unwrap(tp)
        if get_origin(tp) in (Union, types.UnionType):
            models = _models(tp)
            for model in models:
                for key in self.tags:
                    field = model.model_fields.get(key)
                    if field and isinstance(value, dict) and value.get(key) in get_args(field.annotation):
                        return model
            return models[0] if len(models) == 1 else None
        return tp

    def type_at(self, path: Path) -> tuple[Any, list[Any]]:
        """The declared type at `path` and the field's constraint metadata (for ranges and key hints)."""
        tp: Any = self.root
        value = self.data
        metadata: list[Any] = []
        for elem in path:
            model = self.model_for(tp, value)
            if isinstance(model, type) and issubclass(model, BaseModel) and isinstance(elem, str):
                field = model.model_fields.get(elem)
                if field is None:
                    return None, []
                tp, metadata = field.annotation, list(field.metadata)
            else:
                tp = _unwrap(tp)
                origin, args = get_origin(tp), get_args(tp)
                if origin is list and args:
                    tp = args[0]
                elif origin is dict and len(args) == 2:
                    tp = args[1]
                else:
                    return None, []
                metadata = []
            value = _child(value, elem)
        return tp, metadata

    def tag_values(self, path: Path, key: str) -> list[str]:
        """The values the tag `key` may take in the tagged union declared at `path`."""
        tp, _ = self.type_at(path)
        values: list[str] = []
        for model in _models(tp):
            field = model.model_fields.get(key)
            values += [str(v) for v in get_args(field.annotation)] if field is not None else []
        return values


def _bounds(metadata: list[Any]) -> tuple[Any, Any]:
    low = high = None
    for item in metadata:
        if isinstance(item, annotated_types.Ge | annotated_types.Gt):
            low = item.ge if isinstance(item, annotated_types.Ge) else item.gt
        if isinstance(item, annotated_types.Le | annotated_types.Lt):
            high = item.le if isinstance(item, annotated_types.Le) else item.lt
    return low, high


def _literal_values(expected: str) -> list[str]:
    return re.findall(r"'([^']*)'", expected)


class _Item:
    """One pydantic error, phrased."""

    def __init__(self, expected: str = "", found: str = "", *, message: str = "", hint: str = "") -> None:
        self.expected = expected
        self.found = found
        self.message = message
        self.hint = hint


def _phrase(err: ErrorDetails, path: Path, value: Any, schema: _Schema) -> _Item:
    kind = err["type"]
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    if kind in _EXPECTED:
        return _Item(schema.expected_at.get(path, _EXPECTED[kind]))
    if kind.endswith("_type") and err["msg"].startswith("expected "):
        # A custom error type (a `Discriminator`'s) whose message already says what is expected.
        return _Item(err["msg"].removeprefix("expected "))
    if kind == "literal_error":
        values = _literal_values(str(ctx.get("expected", "")))
        hint = did_you_mean(value, values) if isinstance(value, str) else ""
        return _Item(("one of " if len(values) > 1 else "") + ", ".join(values), hint=hint)
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        _, metadata = schema.type_at(path)
        low, high = _bounds(metadata)
        if low is not None and high is not None:
            return _Item(f"a number from {low} to {high}")
        words = {"greater_than_equal": "at least", "less_than_equal": "at most"}
        words |= {"greater_than": "more than", "less_than": "less than"}
        bound = next(iter(ctx.values()), "")
        return _Item(f"a number {words[kind]} {bound}")
    if kind == "string_too_short":
        return _Item(
            "non-empty text" if ctx.get("min_length") == 1 else f"at least {ctx.get('min_length')} characters"
        )
    if kind == "string_too_long":
        return _Item(f"at most {ctx.get('max_length')} characters", f"found {len(value)} characters")
    if kind in ("too_short", "too_long"):
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        word = "at least" if kind == "too_short" else "at most"
        plural = "" if bound == 1 else "s"
        return _Item(f"{word} {bound} item{plural}", f"found {ctx.get('actual_length')}")
    if kind == "string_pattern_mismatch":
        return _Item(f"text matching {ctx.get('pattern')}")
    if kind == "missing":
        return _Item(message=f"missing required key {path[-1]!r}")
    if kind == "extra_forbidden":
        tp, _ = schema.type_at(path[:-1])
        model = schema.model_for(tp, _lookup(schema.data, path[:-1]))
        allowed = list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []
        hint = did_you_mean(str(path[-1]), allowed) or (
            "valid keys: " + ", ".join(allowed) if allowed else ""
        )
        return _Item(message=f"unknown key {path[-1]!r}", hint=hint)
    if kind == "union_tag_invalid":
        tags = _literal_values(str(ctx.get("expected_tags", "")))
        tag = str(ctx.get("tag"))
        return _Item("one of " + ", ".join(tags), hint=did_you_mean(tag, tags))
    if kind == "union_tag_not_found":
        key = str(ctx.get("discriminator", "")).strip("'")
        choices = ", ".join(schema.tag_values(path, key))
        return _Item(message=f"missing required key {key!r} (one of {choices})")
    if kind == HINTED_ERROR:
        return _Item(message=str(ctx.get("message", err["msg"])), hint=str(ctx.get("hint", "")))
    message = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return _Item(message=message)


def _lookup(data: Any, path: Path) -> Any:
    for elem in path:
        data = _child(data, elem)
    return data


def _child(container: Any, elem: str | int) -> Any:
    if isinstance(container, dict):
        return container.get(elem)
    if isinstance(container, list) and isinstance(elem, int) and 0 <= elem < len(container):
        return container[elem]
    return None


def _discriminator_path(err: ErrorDetails, path: Path, data: Any) -> Path:
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        key = str((err.get("ctx") or {}).get("discriminator", "")).strip("'")
        if key and err["type"] == "union_tag_invalid":
            return (*path, key)
    return path


def validation_errors(
    exc: ValidationError,
    doc: Document,
    root: type[BaseModel],
    *,
    error: type[_E],
    tags: tuple[str, ...] = (),
    expected_at: Mapping[Path, str] | None = None,
) -> list[_E]:
    """`exc` (from validating `doc.data` as `root`) as `error`s: one per distinct path, sorted by position.

    Union branches that failed at the same path are merged. `tags` are the keys of `root`'s tagged
    unions (`kind`); `expected_at` words what a path expects where its type alone says too little
    (`{("greeting",): "text or a mapping with instructions or say"}`).
    """
    schema = _Schema(root, doc.data, tags, expected_at or {})
    grouped: dict[tuple[Path, bool], list[tuple[ErrorDetails, _Item, Any]]] = {}
    for err in exc.errors(include_url=False):
        path, is_key, value = clean_loc(tuple(err["loc"]), doc.data, tags)
        path = _discriminator_path(err, path, doc.data)
        if err["type"] == "union_tag_invalid":
            value = _lookup(doc.data, path)
        item = _phrase(err, path, value, schema)
        grouped.setdefault((path, is_key or err["type"] == "extra_forbidden"), []).append((err, item, value))
    result: list[_E] = []
    for (path, is_key), items in grouped.items():
        node_path = path[:-1] if items[0][0]["type"] in ("missing", "union_tag_not_found") and path else path
        if items[0][0]["type"] == "union_tag_not_found":
            node_path = path
        line, column = doc.position(node_path, key=is_key)
        value = items[0][2]
        messages = [i.message for _, i, _ in items if i.message]
        expected = [i.expected for _, i, _ in items if i.expected]
        hints = [i.hint for _, i, _ in items if i.hint]
        if expected and not messages:
            node = doc.node(path)
            if "an integer" in expected and "a number" in expected:
                expected.remove("an integer")
            text_expected = any(e.startswith(("text", "one of")) for e in expected)
            described = describe(value, node, text_expected=text_expected)
            found = next((i.found for _, i, _ in items if i.found), f"found {described}")
            message = f"expected {' or '.join(dict.fromkeys(expected))}, {found}"
            if implicit_surprise(node) and text_expected:
                hints.insert(0, f'quote it: "{node.value}"' if node is not None else "quote it")
        else:
            message = "; ".join(dict.fromkeys(messages or expected))
        result.append(
            error(
                message,
                file=doc.file,
                line=line,
                column=column,
                field=render_path(path),
                hint="; ".join(dict.fromkeys(hints)),
            )
        )
    return sorted(result, key=lambda e: (e.line or 0, e.column or 0, e.field))
