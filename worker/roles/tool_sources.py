"""Tools that come from elsewhere, resolved as a role loads (`worker.roles.loader`).

- A `kind: mcp` block becomes one `McpTool` per tool in its allowlist, named as the model will call
  it, so every check on a role's tools (unique names, evals naming tools) sees them one by one. Their
  descriptions and parameters are the server's, known only when a session lists the server
  (`roles check --online` lists it now).
- A `kind: python` tool's function is imported (its module is under the operator's prefixes, or the
  model already refused it) and its signature is held against the role's `parameters`; without
  `parameters`, they are derived from its type hints.
"""

from __future__ import annotations

from typing import Any

from worker.roles.errors import RoleError, RoleValidationError
from worker.roles.python_functions import Problem, load
from worker.roles.tool_specs import McpServer, McpTool, Origin, PythonTool
from worker.yamlfile import Document, Path, render_path

Entry = tuple[Any, Document, Path]
"""A tool, the file it was written in, and where."""


def resolve(tools: list[Entry], errors: list[RoleError]) -> list[Entry]:
    """`tools` with each mcp block expanded and each python tool checked; problems go to `errors`."""
    out: list[Entry] = []
    for tool, doc, path in tools:
        if isinstance(tool, McpServer):
            out.extend(_expand(tool, doc, path))
        elif isinstance(tool, PythonTool):
            checked = _check_python(tool, doc, path, errors)
            out.append((checked, doc, path))
        else:
            out.append((tool, doc, path))
    return out


def _expand(server: McpServer, doc: Document, path: Path) -> list[Entry]:
    out: list[Entry] = []
    for index, choice in enumerate(server.tools):
        where: Path = (*path, "tools", index)
        line, column = doc.position(where)
        tool = McpTool(
            kind="mcp",
            name=choice.name or choice.tool,
            description=choice.description or f"{choice.tool}, a tool of the {server.server} server",
            described=choice.description is not None,
            error_message=server.error_message,
            server=server,
            tool=choice.tool,
            timeout_s=server.timeout_s,
            origin=Origin(file=doc.file, line=line, column=column, field=render_path(where)),
        )
        out.append((tool, doc, where))
    return out


def _check_python(tool: PythonTool, doc: Document, path: Path, errors: list[RoleError]) -> PythonTool:
    function = load(tool.function)
    if isinstance(function, Problem):
        errors.append(_at(doc, (*path, "function"), function.message, function.hint))
        return tool
    if "parameters" in tool.model_fields_set:
        for where, mismatch in function.mismatches(tool.parameters):
            errors.append(
                _at(
                    doc,
                    (*path, "parameters", *where),
                    f"does not match the signature of {tool.function}: {mismatch}",
                    "make them agree, or leave parameters out to derive them from the type hints",
                )
            )
        return tool
    derived, problems = function.derived()
    if problems:
        errors.append(
            _at(
                doc,
                (*path, "function"),
                f"cannot derive parameters from the type hints of {tool.function}: "
                + "; ".join(problems[:3]),
                "write parameters: for this tool in the role file",
            )
        )
        return tool
    return tool.model_copy(update={"parameters": derived})


def _at(doc: Document, path: Path, message: str, hint: str = "") -> RoleValidationError:
    line, column = doc.position(path)
    return RoleValidationError(
        message, file=doc.file, line=line, column=column, field=render_path(path), hint=hint
    )
