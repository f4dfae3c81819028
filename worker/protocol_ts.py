"""TypeScript for the page, generated from the page protocol (`python -m worker protocol types`).

Everything comes from the module itself (`worker/protocol.py`), read in source order: public
upper-case constants (str, int, float) → `export const`; `Literal[...]` aliases → a literal union type
plus a `<NAME>_VALUES` array of its values (for checks at run time); pydantic models → interfaces
(fields from the models' JSON Schema, named aliases and models by name, `readonly` when the model is
frozen); unions of models (`Annotated[A | B, Field(discriminator=...)]`) → union types. Docstrings
(of the module, constants, aliases, models and fields) become doc comments.

Every property is required: `protocol.encode` writes every field, defaults included, so the page
always receives them all.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import re
import sys
import types
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from worker.errors import RoleCallError
from worker.roles.typescript import ts_type

COMMITTED_PATH = "frontend/lib/src/generated/protocol.ts"
"""Where the generated module is committed, relative to the repository root."""

_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


class ProtocolTypesError(RoleCallError):
    """The protocol module has something this generator cannot express in TypeScript."""


def generate(module: types.ModuleType | None = None) -> str:
    """The TypeScript module for `module` (default: `worker.protocol`), as committed."""
    if module is None:
        from worker import protocol

        module = protocol
    declarations = list(_declarations(module))
    names = _Names(module, [name for name, _ in declarations])
    constants, literals, messages = [], [], []
    for name, doc in declarations:
        value = getattr(module, name)
        if isinstance(value, type) and issubclass(value, BaseModel):
            messages.append(_interface(name, value, doc, names))
        elif _is_literal(value):
            literals.append(_literal_alias(name, value, doc))
        elif _union_members(value) is not None:
            messages.append(_union_alias(name, value, doc, names))
        elif name.isupper() and type(value) in (str, int, float):
            constants.append(_comment(doc) + f"export const {name} = {_value(value)};")
    source = module.__name__.replace(".", "/") + ".py"
    out = [
        f"// Generated from {source} by `python -m worker protocol types`. Do not edit.",
        f"// Regenerate: make types (.venv/bin/python -m worker protocol types -o {COMMITTED_PATH})",
        "",
    ]
    if module.__doc__:
        out += [_comment(module.__doc__).rstrip("\n"), ""]
    for label, section in (("constants", constants), ("literal types", literals), ("messages", messages)):
        if section:
            out += [_banner(label), "", "\n\n".join(section), ""]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------- reading


def _declarations(module: types.ModuleType) -> Iterator[tuple[str, str | None]]:
    """Public names the module's own source assigns or defines, in order, each with its docstring.

    Read from the source because a constant's docstring (the string right after it) exists nowhere at
    run time; classes take theirs from `__doc__`.
    """
    body = ast.parse(inspect.getsource(module)).body
    for index, node in enumerate(body):
        if isinstance(node, ast.ClassDef):
            name, doc = node.name, None
        elif (
            isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and len(node.targets) == 1
        ):
            name, doc = node.targets[0].id, _string_after(body, index)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, doc = node.target.id, _string_after(body, index)
        else:
            continue
        if not name.startswith("_"):
            yield name, doc


def _string_after(body: list[ast.stmt], index: int) -> str | None:
    following = body[index + 1] if index + 1 < len(body) else None
    if (
        isinstance(following, ast.Expr)
        and isinstance(following.value, ast.Constant)
        and isinstance(following.value.value, str)
    ):
        return following.value.value
    return None


def _is_literal(value: object) -> bool:
    return typing.get_origin(value) is typing.Literal


def _unwrap(value: object) -> tuple[object, str | None]:
    """`Annotated[X, Field(discriminator=...)]` → (X, the discriminator); anything else → (it, None)."""
    if typing.get_origin(value) is not typing.Annotated:
        return value, None
    inner, *metadata = typing.get_args(value)
    for item in metadata:
        if isinstance(item, FieldInfo) and isinstance(item.discriminator, str):
            return inner, item.discriminator
    return inner, None


def _union_members(value: object) -> tuple[object, ...] | None:
    inner, _ = _unwrap(value)
    if typing.get_origin(inner) in (typing.Union, types.UnionType):
        return typing.get_args(inner)
    return None


class _Names:
    """The TypeScript name of each module member other declarations can refer to (by identity)."""

    def __init__(self, module: types.ModuleType, declared: list[str]) -> None:
        self.by_id: dict[int, str] = {}
        for name in declared:
            value = getattr(module, name)
            model = isinstance(value, type) and issubclass(value, BaseModel)
            if model or _is_literal(value) or _union_members(value) is not None:
                self.by_id[id(value)] = name

    def of(self, value: object) -> str | None:
        return self.by_id.get(id(value))


# ---------------------------------------------------------------------------------------- writing


def _literal_alias(name: str, value: object, doc: str | None) -> str:
    members = typing.get_args(value)
    values_name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper() + "_VALUES"
    return (
        _comment(doc)
        + f"export type {name} = {' | '.join(_value(m) for m in members)};\n"
        + f"/** Every {{@link {name}}}, in declaration order. */\n"
        + f"export const {values_name} = [{', '.join(_value(m) for m in members)}] as const"
        + f" satisfies readonly {name}[];"
    )


def _union_alias(name: str, value: object, doc: str | None, names: _Names) -> str:
    _, discriminator = _unwrap(value)
    members = []
    for member in _union_members(value) or ():
        member_name = names.of(member)
        if member_name is None:
            raise ProtocolTypesError(f"{name}: each member of a union must be a model or union of the module")
        members.append(member_name)
    if discriminator is not None:
        doc = ((doc or "").rstrip() + f" Discriminated by `{discriminator}`.").lstrip()
    return _comment(doc) + f"export type {name} = {' | '.join(members)};"


def _interface(name: str, model: type[BaseModel], doc: str | None, names: _Names) -> str:
    schema = model.model_json_schema(mode="serialization")
    properties = schema.get("properties", {})
    readonly = "readonly " if model.model_config.get("frozen") else ""
    lines = []
    for field, info in model.model_fields.items():
        key = info.serialization_alias or info.alias or field
        if not _IDENTIFIER.match(key):
            raise ProtocolTypesError(f"{name}.{field}: {key!r} is not a TypeScript identifier")
        ts = names.of(info.annotation) or _from_schema(f"{name}.{field}", properties[key])
        lines.append(_comment(info.description, "  ") + f"  {readonly}{key}: {ts};")
    body = "{\n" + "\n".join(lines) + "\n}" if lines else "{}"
    return _comment(doc if doc is not None else model.__doc__) + f"export interface {name} {body}"


def _from_schema(where: str, schema: dict[str, Any]) -> str:
    if "$ref" in json.dumps(schema):
        raise ProtocolTypesError(f"{where}: a model nested inside another type is not supported; name it")
    return ts_type(schema, indent=1)


def _value(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return f"{value:_}"  # 15_360, as in the Python source
    return json.dumps(value, ensure_ascii=False)


def _comment(doc: str | None, pad: str = "") -> str:
    """`doc` as a doc comment (ending in a newline), or nothing."""
    if not doc or not doc.strip():
        return ""
    lines = inspect.cleandoc(doc).replace("*/", "*\\/").splitlines()
    if len(lines) == 1:
        return f"{pad}/** {lines[0]} */\n"
    return f"{pad}/**\n" + "".join(f"{pad} * {line}".rstrip() + "\n" for line in lines) + f"{pad} */\n"


def _banner(label: str) -> str:
    return f"// --- {label} ".ljust(100, "-")


# ---------------------------------------------------------------------------------- command line


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the `protocol` command and its `types` action."""
    parser = subparsers.add_parser(
        "protocol",
        help="the page protocol (worker/protocol.py) as TypeScript",
        description="The page protocol (worker/protocol.py), as TypeScript for the page library.",
    )
    actions = parser.add_subparsers(dest="protocol_command", metavar="ACTION")
    actions.required = True
    types_parser = actions.add_parser(
        "types", help=f"print the protocol as a TypeScript module (committed as {COMMITTED_PATH})"
    )
    types_parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE, not standard output")
    types_parser.set_defaults(func=_types)


def _types(args: argparse.Namespace) -> int:
    text = generate()
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0
