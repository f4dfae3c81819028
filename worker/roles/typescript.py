"""TypeScript types for the page, generated from the role files (`python -m worker roles types`).

For every frontend tool of every role: an args interface derived from the tool's JSON Schema
`parameters`, its RPC method name, and the schema itself as a const (the page validates against it at
run time). `ToolArgs` maps each RPC method to its arguments, so renaming a tool or changing a
parameter in a role file turns into a compile error in the UI. Likewise for every UI event a role
accepts (`events:`): a payload interface and schema, and `EventPayloads` by event name, which
`sendEvent` is typed by.

Mapping: `object` → an interface (required properties plain, the others optional; an
`additionalProperties` schema or `true` adds an index signature), `string`/`boolean`/`null` as named,
`integer` and `number` → `number`, `array` → `T[]`, `enum`/`const` → literal unions, `anyOf` and
`type: [T, "null"]` → unions, anything else → `unknown`. Descriptions become doc comments.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from worker.errors import RoleCallError
from worker.roles.errors import RoleError
from worker.roles.loader import check_dir
from worker.roles.models import FrontendTool, Role
from worker.roles.policy import RolePolicy

HEADER = (
    "// Generated from the role files by `python -m worker roles types`. Do not edit.\n"
    "// Regenerate: .venv/bin/python -m worker roles types -o frontend/lib/src/generated/roles.ts\n"
)
COMMITTED_PATH = "frontend/lib/src/generated/roles.ts"
"""Where the generated module is committed, relative to the repository root."""

_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_SCALARS = {"string": "string", "integer": "number", "number": "number", "boolean": "boolean", "null": "null"}
_CONSTRAINTS = (
    ("minimum", "minimum"),
    ("maximum", "maximum"),
    ("minLength", "min length"),
    ("maxLength", "max length"),
    ("minItems", "min items"),
    ("maxItems", "max items"),
    ("pattern", "pattern"),
    ("format", "format"),
    ("default", "default"),
)


class TypesError(RoleCallError):
    """The role files are invalid, so no types are generated; `errors` lists every problem."""

    def __init__(self, errors: Sequence[RoleError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = list(errors)


# ------------------------------------------------------------------------------------- schema → TS


def ts_type(schema: Any, indent: int = 0) -> str:
    """The TypeScript type of values valid against JSON Schema `schema`."""
    if schema is True or not isinstance(schema, Mapping):
        return "unknown"
    if "const" in schema:
        return _literal(schema["const"])
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return _union(_literal(v) for v in schema["enum"])
    if isinstance(schema.get("anyOf"), list) and schema["anyOf"]:
        return _union(ts_type(sub, indent) for sub in schema["anyOf"])
    declared = schema.get("type")
    if isinstance(declared, list):
        return _union(_of_type(schema, t, indent) for t in declared)
    if isinstance(declared, str):
        return _of_type(schema, declared, indent)
    return "unknown"


def _of_type(schema: Mapping[str, Any], declared: str, indent: int) -> str:
    if declared in _SCALARS:
        return _SCALARS[declared]
    if declared == "array":
        item = ts_type(schema.get("items", True), indent)
        return f"({item})[]" if " | " in item else f"{item}[]"
    if declared == "object":
        return _object_body(schema, indent)
    return "unknown"


def _object_body(schema: Mapping[str, Any], indent: int) -> str:
    properties = schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    required = {r for r in schema.get("required", []) if isinstance(r, str)}
    extra = schema.get("additionalProperties")
    lines: list[str] = []
    pad = "  " * (indent + 1)
    for name, sub in properties.items():
        lines.extend(_doc(sub, pad))
        optional = "" if name in required else "?"
        lines.append(f"{pad}{_key(name)}{optional}: {ts_type(sub, indent + 1)};")
    if extra is True or isinstance(extra, Mapping):
        value = "unknown" if extra is True or properties else ts_type(extra, indent + 1)
        lines.append(f"{pad}[key: string]: {value};")
    if not lines:
        return "Record<string, never>"
    return "{\n" + "\n".join(lines) + "\n" + "  " * indent + "}"


def _doc(schema: Any, pad: str) -> list[str]:
    if not isinstance(schema, Mapping):
        return []
    parts = []
    description = schema.get("description")
    if isinstance(description, str) and description.strip():
        parts.append(description.strip())
    limits = [f"{label} {json.dumps(schema[key])}" for key, label in _CONSTRAINTS if key in schema]
    if limits:
        parts.append("(" + ", ".join(limits) + ")")
    if not parts:
        return []
    text = " ".join(parts).replace("*/", "*\\/")
    lines = text.splitlines()
    if len(lines) == 1:
        return [f"{pad}/** {lines[0]} */"]
    return [f"{pad}/**", *(f"{pad} * {line}".rstrip() for line in lines), f"{pad} */"]


def _literal(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str | int | float | bool) or value is None else "unknown"


def _union(members: Iterable[str]) -> str:
    unique = list(dict.fromkeys(members))
    return "unknown" if "unknown" in unique else " | ".join(unique)


def _key(name: str) -> str:
    return name if _IDENTIFIER.match(name) else json.dumps(name)


def pascal(name: str) -> str:
    """`show_recipe` → `ShowRecipe`; `cooking-guide` → `CookingGuide`; a leading digit gets `T`."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name) if w]
    joined = "".join(w[:1].upper() + w[1:] for w in words) or "Tool"
    return joined if not joined[0].isdigit() else "T" + joined


# ------------------------------------------------------------------------------------------ module


@dataclass(frozen=True)
class _Variant:
    """One distinct schema for an RPC method (roles that agree share it)."""

    method: str
    schema: dict[str, Any]
    description: str
    roles: tuple[str, ...]
    type_name: str
    const_name: str


def frontend_tools(role: Role) -> list[FrontendTool]:
    """The role's frontend tools, in file order (fragments after the role's own)."""
    return [t for t in role.tools if isinstance(t, FrontendTool)]


def generate(roles: Sequence[Role]) -> str:
    """The TypeScript module for these roles (sorted by name), as committed."""
    roles = sorted(roles, key=lambda r: r.name)
    variants = _variants(roles)
    out = [HEADER]
    out.append("/** A JSON Schema, as written in a role file's tool `parameters`. */")
    out.append("export type JsonSchema = { readonly [keyword: string]: unknown };")
    out.append("")
    events = _variants(roles, _role_events, "Payload", "EventSchema", variants)
    for v in variants:
        out.extend(
            _declaration(v, f"{v.method} ({', '.join(v.roles)})", f"Arguments of RPC method `{v.method}`")
        )
    for v in events:
        out.extend(
            _declaration(v, f"event {v.method} ({', '.join(v.roles)})", f"Payload of UI event `{v.method}`")
        )
    by_key = {(v.method, _canonical(v.schema)): v for v in variants}
    event_by_key = {(v.method, _canonical(v.schema)): v for v in events}
    methods = sorted({v.method for v in variants})

    out.append(_banner("roles"))
    out.append("")
    out.append("/** Every role, with its frontend tools: tool name → RPC method and JSON Schema. */")
    out.append("export const ROLES = {")
    for role in roles:
        out.append(f"  {_key(role.name)}: {{")
        out.append(f"    title: {json.dumps(role.title)},")
        out.append(f"    description: {json.dumps(role.description)},")
        tools = frontend_tools(role)
        if not tools:
            out.append("    tools: {},")
        else:
            out.append("    tools: {")
            for tool in tools:
                const = by_key[(tool.method, _canonical(tool.parameters))].const_name
                out.append(
                    f"      {_key(tool.name)}: {{ method: {json.dumps(tool.method)}, schema: {const} }},"
                )
            out.append("    },")
        if not role.events:
            out.append("    events: {},")
        else:
            out.append("    events: {")
            for event in role.events:
                const = event_by_key[(event.name, _canonical(event.payload))].const_name
                out.append(
                    f"      {_key(event.name)}: {{ respond: {json.dumps(event.respond)}, schema: {const} }},"
                )
            out.append("    },")
        out.append("  },")
    out.append("} as const;")
    out.append("")
    out.append("/** The name of a role. */")
    out.append("export type RoleName = keyof typeof ROLES;")
    out.append("")
    out.append("/** Per role, the arguments of each frontend tool by RPC method. */")
    out.append("export interface RoleToolArgs {")
    for role in roles:
        tools = frontend_tools(role)
        if not tools:
            out.append(f"  {_key(role.name)}: Record<never, never>;")
            continue
        out.append(f"  {_key(role.name)}: {{")
        for tool in tools:
            name = by_key[(tool.method, _canonical(tool.parameters))].type_name
            out.append(f"    {_key(tool.method)}: {name};")
        out.append("  };")
    out.append("}")
    out.append("")
    out.append("/** Arguments by RPC method, over every role: what a page implements. */")
    out.append("export interface ToolArgs {")
    for method in methods:
        names = [v.type_name for v in variants if v.method == method]
        out.append(f"  {_key(method)}: {' | '.join(names)};")
    out.append("}")
    out.append("")
    out.append("/** An RPC method some role's frontend tool calls. */")
    out.append("export type ToolMethod = keyof ToolArgs;")
    out.append("")
    out.append("/** Every RPC method, sorted. */")
    out.append(
        "export const TOOL_METHODS = ["
        + ", ".join(json.dumps(m) for m in methods)
        + "] as const satisfies readonly ToolMethod[];"
    )
    out.append("")
    out.append("/** JSON Schema by RPC method (`anyOf` when roles declare a method differently). */")
    out.append("export const TOOL_SCHEMAS: { readonly [M in ToolMethod]: JsonSchema } = {")
    for method in methods:
        consts = [v.const_name for v in variants if v.method == method]
        value = consts[0] if len(consts) == 1 else "{ anyOf: [" + ", ".join(consts) + "] }"
        out.append(f"  {_key(method)}: {value},")
    out.append("};")
    out.extend(_event_maps(roles, events))
    return "\n".join(out) + "\n"


def _declaration(v: _Variant, banner: str, what: str) -> list[str]:
    """The interface and schema const of one tool's arguments or one event's payload."""
    summary = v.description.strip().replace("*/", "*\\/")
    body = ts_type({**v.schema, "type": "object"} if "type" not in v.schema else v.schema)
    declared = (
        f"export interface {v.type_name} {body}"
        if body.startswith("{")
        else f"export type {v.type_name} = {body};"
    )
    return [
        _banner(banner),
        "",
        f"/** {what}: {summary} */",
        declared,
        "",
        f"/** JSON Schema of {{@link {v.type_name}}}, for validation at run time. */",
        f"export const {v.const_name} = {_json(v.schema)} as const;",
        "",
    ]


def _event_maps(roles: Sequence[Role], events: list[_Variant]) -> list[str]:
    """`RoleEventPayloads`, `EventPayloads`, `EventName`, `EVENT_NAMES` and `EVENT_SCHEMAS`."""
    by_key = {(v.method, _canonical(v.schema)): v for v in events}
    names = sorted({v.method for v in events})
    out = [
        "",
        "/** Per role, the payload of each UI event it accepts. */",
        "export interface RoleEventPayloads {",
    ]
    for role in roles:
        if not role.events:
            out.append(f"  {_key(role.name)}: Record<never, never>;")
            continue
        out.append(f"  {_key(role.name)}: {{")
        for event in role.events:
            out.append(
                f"    {_key(event.name)}: {by_key[(event.name, _canonical(event.payload))].type_name};"
            )
        out.append("  };")
    out += ["}", "", "/** Payload by UI event name, over every role: what `sendEvent` takes. */"]
    out.append("export interface EventPayloads {")
    for name in names:
        out.append(f"  {_key(name)}: {' | '.join(v.type_name for v in events if v.method == name)};")
    out += [
        "}",
        "",
        "/** A UI event some role accepts. */",
        "export type EventName = keyof EventPayloads;",
        "",
    ]
    out.append("/** Every UI event name, sorted. */")
    listed = ", ".join(json.dumps(n) for n in names)
    out.append(f"export const EVENT_NAMES = [{listed}] as const satisfies readonly EventName[];")
    out += [
        "",
        "/** JSON Schema of each event's payload (`anyOf` when roles declare an event differently). */",
    ]
    out.append("export const EVENT_SCHEMAS: { readonly [N in EventName]: JsonSchema } = {")
    for name in names:
        consts = [v.const_name for v in events if v.method == name]
        value = consts[0] if len(consts) == 1 else "{ anyOf: [" + ", ".join(consts) + "] }"
        out.append(f"  {_key(name)}: {value},")
    out.append("};")
    return out


def _role_tools(role: Role) -> list[tuple[str, dict[str, Any], str]]:
    return [(t.method, t.parameters, t.description) for t in frontend_tools(role)]


def _role_events(role: Role) -> list[tuple[str, dict[str, Any], str]]:
    return [(e.name, e.payload, e.description) for e in role.events]


def _variants(
    roles: Sequence[Role],
    items: Callable[[Role], list[tuple[str, dict[str, Any], str]]] = _role_tools,
    type_suffix: str = "Args",
    const_suffix: str = "Schema",
    earlier: Sequence[_Variant] = (),
) -> list[_Variant]:
    """One variant per distinct (name, schema) over `roles`; names unique beside `earlier`'s."""
    found: dict[tuple[str, str], tuple[dict[str, Any], str, list[str]]] = {}
    for role in roles:
        for name, schema, description in items(role):
            key = (name, _canonical(schema))
            if key in found:
                if role.name not in found[key][2]:
                    found[key][2].append(role.name)
            else:
                found[key] = (schema, description, [role.name])
    per_name: dict[str, int] = {}
    for name, _ in found:
        per_name[name] = per_name.get(name, 0) + 1
    taken: set[str] = {"JsonSchema", "ROLES", "RoleName", "RoleToolArgs", "ToolArgs", "ToolMethod"}
    taken |= {"RoleEventPayloads", "EventPayloads", "EventName"}
    taken |= {n for v in earlier for n in (v.type_name, v.const_name)}
    variants = []
    for (name, _), (schema, description, role_names) in found.items():
        base = pascal(name) if per_name[name] == 1 else pascal(role_names[0]) + pascal(name)
        type_name = _unique(base + type_suffix, taken)
        const_name = _unique(base + const_suffix, taken)
        variants.append(_Variant(name, schema, description, tuple(role_names), type_name, const_name))
    return variants


def _banner(label: str) -> str:
    return f"// --- {label} ".ljust(100, "-")


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}{n}", n + 1
    taken.add(candidate)
    return candidate


def _canonical(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def generate_dir(roles_dir: str, *, policy: RolePolicy | None = None) -> str:
    """`generate` over every role in `roles_dir`; raises `TypesError` when any file is invalid."""
    report = check_dir(roles_dir, policy=policy)
    if not report.ok:
        raise TypesError([e for r in report.results for e in r.errors] + report.other_errors)
    return generate([r.role for r in report.results if r.role is not None])
