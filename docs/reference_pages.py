"""The reference pages of the documentation, written from the code at build time (never copied by hand).

`PAGES` maps each page's path inside `docs/` to the function that writes it:

    reference/roles.md      role and fragment files: the pydantic models' JSON Schema and field docstrings
    reference/settings.md   `worker.settings.Settings`: each field's environment variable, default, docstring
    reference/web-api.md    the OpenAPI document of the web backend (`worker.web.openapi.spec`): routes and
                            webhooks, with every body schema
    reference/protocol.md   the page protocol (`worker.protocol`): constants, literal types, messages
    reference/cli.md        `python -m worker` and every sub-command, from their argparse parsers
    reference/errors.md     the `RoleCallError` tree, the page protocol's codes, the web API's error codes

`docs/hooks.py` adds them to the MkDocs build; `tests/docs/test_reference.py` checks what they hold.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib
import inspect
import json
import pkgutil
import re
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pydantic import BaseModel

GENERATED = "<!-- Generated from the code by docs/reference_pages.py at build time; do not edit. -->\n\n"


def _cell(text: str) -> str:
    """Text for one cell of a Markdown table: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _doc(text: str | None) -> str:
    """A docstring as Markdown prose (indentation removed)."""
    return inspect.cleandoc(text) if text else ""


def _attribute_docs(source: str, cls: str | None = None) -> dict[str, str]:
    """Docstrings written under assignments (module level, or in class `cls`), by name.

    They exist nowhere at run time, so they are read from the source.
    """
    body: list[ast.stmt] = ast.parse(source).body
    if cls is not None:
        body = next(n.body for n in body if isinstance(n, ast.ClassDef) and n.name == cls)
    docs: dict[str, str] = {}
    for node, following in zip(body, [*body[1:], None], strict=True):
        target: ast.expr | None = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        if (
            isinstance(target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[target.id] = _doc(following.value.value)
    return docs


# ---------------------------------------------------------------------------------------- JSON Schema


def _anchor(name: str) -> str:
    return "schema-" + name.lower()


def schema_type(node: Mapping[str, Any]) -> str:
    """A short Markdown description of a JSON Schema node's type and constraints."""
    if "$ref" in node:
        name = str(node["$ref"]).rsplit("/", 1)[-1]
        return f"[{name}](#{_anchor(name)})"
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    if "enum" in node:
        return "one of " + ", ".join(f"`{json.dumps(v)}`" for v in node["enum"])
    for key in ("anyOf", "oneOf"):
        if key in node:
            text = " or ".join(schema_type(n) for n in node[key])
            return text + _constraints(node)
    kind = node.get("type")
    if isinstance(kind, list):
        text = " or ".join(str(k) for k in kind)
    elif kind == "array":
        items = node.get("items")
        text = "list of " + (schema_type(items) if isinstance(items, Mapping) else "anything")
    elif kind == "object" and "patternProperties" in node:
        pattern, value = next(iter(node["patternProperties"].items()))
        text = f"map of name (`{pattern}`) to {schema_type(value)}"
    elif kind == "object" and isinstance(node.get("additionalProperties"), Mapping):
        text = f"map of text to {schema_type(node['additionalProperties'])}"
    elif kind is None:
        text = "any JSON value"
    else:
        text = str(kind)
    return text + _constraints(node)


def _constraints(node: Mapping[str, Any]) -> str:
    parts = []
    for key, label in (
        ("minimum", ">="),
        ("exclusiveMinimum", ">"),
        ("maximum", "<="),
        ("exclusiveMaximum", "<"),
        ("minLength", "length >="),
        ("maxLength", "length <="),
        ("minItems", "items >="),
        ("maxItems", "items <="),
    ):
        if key in node:
            parts.append(f"{label} {node[key]}")
    if "pattern" in node:
        parts.append(f"matches `{node['pattern']}`")
    if node.get("format"):
        parts.append(f"format {node['format']}")
    return f" ({', '.join(parts)})" if parts else ""


def _default(node: Mapping[str, Any], required: bool) -> str:
    if required:
        return "required"
    if "default" in node:
        return f"`{json.dumps(node['default'], ensure_ascii=False)}`"
    return ""


def schema_table(schema: Mapping[str, Any]) -> str:
    """A Markdown table of an object schema's properties: name, type, default, meaning."""
    properties: Mapping[str, Any] = schema.get("properties", {})
    if not properties:
        return schema_type(schema) + "\n"
    required = set(schema.get("required", []))
    rows = ["| field | type | default | meaning |", "| --- | --- | --- | --- |"]
    for name, node in properties.items():
        rows.append(
            f"| `{name}` | {_cell(schema_type(node))} | {_cell(_default(node, name in required))} "
            f"| {_cell(node.get('description', ''))} |"
        )
    return "\n".join(rows) + "\n"


def schema_sections(defs: Mapping[str, Any], level: str = "###") -> str:
    """One section per named schema, with its description and its table; anchors for `schema_type`."""
    out = []
    for name, node in sorted(defs.items()):
        out.append(f"{level} {name} {{ #{_anchor(name)} }}\n")
        if node.get("description"):
            out.append(_doc(node["description"]) + "\n")
        out.append(schema_table(node))
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------- roles


def roles_page() -> str:
    """Every field of a role file and a fragment file, from the models' JSON Schema."""
    from worker.roles.schema import json_schema

    role, fragment = json_schema("role"), json_schema("fragment")
    defs = {**role.get("$defs", {}), **fragment.get("$defs", {})}
    return (
        "# Role file fields\n\n"
        + GENERATED
        + "Every key a role file (`roles/<name>.yaml`) or a fragment file "
        "(`roles/fragments/<name>.yaml`) may hold, generated from the pydantic models in "
        "`worker/roles/` and their field docstrings (the same models `roles check` validates "
        "against, and the source of `roles/role.schema.json`). Unknown keys are errors. "
        "For a whole role with comments, see [Role files](role-files.md).\n\n"
        "## Role file\n\n" + _doc(role.get("description")) + "\n\n" + schema_table(role) + "\n"
        "## Fragment file\n\n" + _doc(fragment.get("description")) + "\n\n" + schema_table(fragment) + "\n"
        "## Sections and tool kinds\n\n" + schema_sections(defs)
    )


# ------------------------------------------------------------------------------------------- settings


def settings_rows() -> list[tuple[str, str, str]]:
    """(environment variable, default, meaning) for every setting, in declaration order."""
    from worker import settings

    docs = _attribute_docs(inspect.getsource(settings), "Settings")
    rows = []
    for f in dataclasses.fields(settings.Settings):
        env = f.metadata["env"]
        doc = docs.get(f.name, "")
        doc = re.sub(rf"\s*Env:\s*`{env}`", "", doc).strip()
        default = f.default
        if default is None or default == "":
            shown = "(unset)"
        else:
            shown = f"`{str(default).lower() if isinstance(default, bool) else default}`"
        if not f.repr:
            doc += " Secret: never logged or shown."
        rows.append((env, shown, doc))
    return rows


def settings_page() -> str:
    """Every setting: its environment variable, default and meaning, from `worker/settings.py`."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{env}` | {_cell(default)} | {_cell(doc)} |" for env, default, doc in settings_rows()]
    return (
        "# Settings\n\n"
        + GENERATED
        + "Every setting is an environment variable (or a line in `.env`, read for anything the environment "
        "does not set). The worker and the web backend read the same settings; each is a field of "
        "`worker.settings.Settings`, and this table is its docstrings. A missing or malformed setting stops "
        "the start with one line per problem:\n\n"
        "```text\nerror: invalid settings:\n"
        "  ROLECALL_PARTICIPANT_TIMEOUT_S='soon': expected a number of seconds\n"
        "  LIVEKIT_API_SECRET is required (see README, 'Settings')\n```\n\n"
        "`.env.example` lists every variable; in `docker compose` the in-container ones "
        "(`LIVEKIT_URL`, ports, paths) are fixed by the compose file.\n\n" + "\n".join(rows) + "\n"
    )


# -------------------------------------------------------------------------------------------- web API


def _operation(method: str, path: str, op: Mapping[str, Any]) -> str:
    out = [f"### {method.upper()} `{path}`\n", op.get("summary", "") + "\n"]
    if op.get("description"):
        out.append(op["description"] + "\n")
    if op.get("security"):
        schemes = ", ".join(name for entry in op["security"] for name in entry) or "none"
        out.append(f"Authentication: {schemes} (see [Security schemes](#security-schemes)).\n")
    params = op.get("parameters", [])
    if params:
        out.append("| parameter | in | required | meaning |\n| --- | --- | --- | --- |")
        for p in params:
            out.append(
                f"| `{p['name']}` | {p['in']} | {'yes' if p.get('required') else 'no'} "
                f"| {_cell(p.get('description', ''))} {_cell(schema_type(p.get('schema', {})))} |"
            )
        out.append("")
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body:
        out.append(f"Request body (JSON): {schema_type(body)}.\n")
    out.append("| status | meaning | body |\n| --- | --- | --- |")
    for status, response in op.get("responses", {}).items():
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        headers = ", ".join(f"`{h}` header" for h in response.get("headers", {}))
        shown = schema_type(schema) if schema else ""
        out.append(
            f"| {status} | {_cell(response.get('description', ''))} | {_cell(' '.join((shown, headers)))} |"
        )
    return "\n".join(out) + "\n"


def web_api_page() -> str:
    """The web backend's routes and the worker's webhooks, from the OpenAPI document."""
    from worker.web.openapi import spec

    doc = spec()
    out = [
        "# Web API and webhooks\n",
        GENERATED,
        f"{doc['info']['description']}\n",
        "Generated from the OpenAPI document, which `python -m worker web` serves at `GET /api/openapi.json` "
        "and which is itself generated from the pydantic models in `worker/web/models.py` (so it cannot "
        "drift from what the handlers validate). The prose guide is [The web backend](web-backend.md).\n",
        "## Routes\n",
    ]
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            out.append(_operation(method, path, op))
    out.append(
        "## Webhooks\n\nWhat the worker sends to your app backend (see "
        "[Connect an app backend](../how-to/app-backend.md)).\n"
    )
    for name, operations in doc.get("webhooks", {}).items():
        for method, op in operations.items():
            out.append(_operation(method, f"webhook {name}", op))
    schemes = doc.get("components", {}).get("securitySchemes", {})
    if schemes:
        out.append("## Security schemes\n\n| scheme | kind | meaning |\n| --- | --- | --- |")
        for name, scheme in schemes.items():
            kind = " ".join(str(scheme.get(k, "")) for k in ("type", "scheme", "in", "name")).strip()
            out.append(f"| `{name}` | {_cell(kind)} | {_cell(scheme.get('description', ''))} |")
        out.append("")
    out.append("## Schemas\n")
    out.append(schema_sections(doc["components"]["schemas"]))
    return "\n".join(out)


# ------------------------------------------------------------------------------------------- protocol


def _literal_values(value: object) -> tuple[Any, ...] | None:
    return typing.get_args(value) if typing.get_origin(value) is typing.Literal else None


def protocol_page() -> str:
    """The page protocol: constants, literal types and messages of `worker.protocol`, with their docs."""
    from worker import protocol

    docs = _attribute_docs(inspect.getsource(protocol))
    constants = ["| name | value | meaning |", "| --- | --- | --- |"]
    literals = ["| type | values | meaning |", "| --- | --- | --- |"]
    messages: list[str] = []
    for name, value in vars(protocol).items():
        if name.startswith("_"):
            continue
        if isinstance(value, type) and issubclass(value, BaseModel):
            if value.__module__ == protocol.__name__:
                schema = value.model_json_schema()
                messages.append(
                    f"### {name} {{ #{_anchor(name)} }}\n\n{_doc(value.__doc__)}\n\n{schema_table(schema)}"
                )
        elif name not in docs:
            continue
        elif name.isupper() and type(value) in (str, int, float):
            constants.append(f"| `{name}` | `{json.dumps(value)}` | {_cell(docs[name])} |")
        elif (values := _literal_values(value)) is not None:
            shown = ", ".join(f"`{v}`" for v in values)
            literals.append(f"| `{name}` | {shown} | {_cell(docs[name])} |")
    unions = [
        f"- `{name}`: {_cell(docs[name])}"
        for name, value in vars(protocol).items()
        if name in docs and typing.get_origin(value) is typing.Annotated
    ]
    return (
        "# Page protocol\n\n"
        + GENERATED
        + "What the worker and the page say to each other besides audio and transcripts, generated from "
        "`worker/protocol.py` (the page library's TypeScript, `frontend/lib/src/generated/protocol.ts`, "
        "is generated from the same module by `python -m worker protocol types`).\n\n"
        "```text\n" + _doc(protocol.__doc__) + "\n```\n\n"
        "## Constants\n\n" + "\n".join(constants) + "\n\n"
        "## Literal types\n\n" + "\n".join(literals) + "\n\n"
        "## Unions\n\n" + "\n".join(unions) + "\n\n"
        "## Messages\n\n" + "\n".join(messages)
    )


# ------------------------------------------------------------------------------------------------ CLI


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield from _parsers(sub)


def cli_page() -> str:
    """`python -m worker --help` and every sub-command's help, from the real parsers."""
    from worker.cli import build_parser
    from worker.simulator.cli import fault_options

    out = [
        "# Command line\n",
        GENERATED,
        "`python -m worker` (installed as `rolecall`) has one sub-command per concept. Each section is the "
        "command's own `--help`, from its argparse parser.\n",
    ]
    for parser in _parsers(build_parser()):
        parser.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=100)
        out.append(f"## `{parser.prog}`\n\n```text\n{parser.format_help().rstrip()}\n```\n")
    rows = ["| flag | `Faults` field | effect |", "| --- | --- | --- |"]
    for option in fault_options():
        metavar = option.argparse.get("metavar")
        flag = f"{option.flag}{' ' + metavar if metavar else ''}"
        rows.append(f"| `{flag}` | `{option.field}` | {_cell(str(option.argparse.get('help', '')))} |")
    out.append(
        "## Simulator fault knobs\n\nThe `simulate` flags above that set a fault, each a field of "
        "`worker.simulator.Faults` (settable in-process with `SimulatorConfig(faults=Faults(...))` or on a "
        "live connection, `sim.connections[0].faults`). See [The simulator](simulator.md).\n\n"
        + "\n".join(rows)
        + "\n"
    )
    return "\n".join(out)


# --------------------------------------------------------------------------------------------- errors


def error_classes() -> list[type[BaseException]]:
    """Every `RoleCallError` subclass defined in `worker`, in tree order (every module imported)."""
    import worker
    from worker.errors import RoleCallError

    for info in pkgutil.walk_packages(worker.__path__, "worker."):
        if not info.name.endswith("__main__"):  # running it would run the command line
            importlib.import_module(info.name)
    found: list[type[BaseException]] = []

    def walk(cls: type[BaseException]) -> None:
        found.append(cls)
        for sub in sorted(cls.__subclasses__(), key=lambda c: c.__name__):
            if sub.__module__.startswith("worker"):
                walk(sub)

    walk(RoleCallError)
    return list(dict.fromkeys(found))


def errors_page() -> str:
    """RoleCall's exception tree, the page protocol's codes and the web API's error codes."""
    from worker import errors, protocol
    from worker.web.openapi import spec

    rows = ["| class | module | base | when |", "| --- | --- | --- | --- |"]
    for cls in error_classes():
        base = cls.__bases__[0].__name__ if cls.__bases__ else ""
        first = _doc(cls.__doc__).split("\n\n")[0]
        rows.append(f"| `{cls.__name__}` | `{cls.__module__}` | `{base}` | {_cell(first)} |")
    docs = _attribute_docs(inspect.getsource(protocol))
    codes = ["| type | values | meaning |", "| --- | --- | --- |"]
    for name in ("AgentErrorCode", "PageErrorCode", "RefusalReason", "EventRefusalReason", "EndReason"):
        values = ", ".join(f"`{v}`" for v in typing.get_args(getattr(protocol, name)))
        codes.append(f"| `{name}` | {values} | {_cell(docs.get(name, ''))} |")
    http = ["| route | status | code and meaning |", "| --- | --- | --- |"]
    for path, operations in spec()["paths"].items():
        for method, op in operations.items():
            for status, response in op.get("responses", {}).items():
                if int(status) >= 400:
                    http.append(
                        f"| {method.upper()} `{path}` | {status} | {_cell(response['description'])} |"
                    )
    return (
        "# Errors and codes\n\n" + GENERATED + "## Python exceptions\n\n"
        "Every error RoleCall raises on purpose is a `RoleCallError`; its `str()` is the line a user reads. "
        "The tree as `worker/errors.py` draws it (`tests/worker/test_errors.py` holds the drawing "
        "to the code):\n\n"
        "```text\n"
        + _doc(errors.__doc__).split("::", 1)[-1].split("\n\nOutside the tree")[0].strip("\n")
        + "\n```\n\n"
        "Every class, found by importing the whole `worker` package:\n\n" + "\n".join(rows) + "\n\n"
        "## Page protocol codes\n\n"
        "Sent to the page on the `rolecall.events` stream and the `rolecall.error` attribute, or "
        "reported by the page library itself; `EndReason` is a session report's `end_reason` "
        "(see [Page protocol](protocol.md)).\n\n" + "\n".join(codes) + "\n\n"
        "## Web API error codes\n\n"
        'Every error of the web backend is JSON, `{"error": {"code": "...", "message": "..."}}`, sometimes '
        "with more fields (`field`, `roles`, `retry_after_s`). Per route, from the OpenAPI document "
        "(see [Web API](web-api.md)):\n\n" + "\n".join(http) + "\n"
    )


PAGES: dict[str, Callable[[], str]] = {
    "reference/roles.md": roles_page,
    "reference/settings.md": settings_page,
    "reference/web-api.md": web_api_page,
    "reference/protocol.md": protocol_page,
    "reference/cli.md": cli_page,
    "reference/errors.md": errors_page,
}
"""Generated page (path inside docs/) → the function that writes it."""
