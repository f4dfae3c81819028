"""The function of a `python` tool: found by `package.module:name`, its parameters read from its type
hints, its signature held against the role's `parameters`.

Importing a module runs its code, so only modules under the operator's prefixes
(`ROLECALL_PYTHON_TOOL_MODULES`) are ever imported: the role model refuses the others first
(`PythonTool.function`), and the tool's runner checks again.

A function takes keyword parameters, each with a type hint (pydantic reads them), and optionally one
parameter annotated `worker.tools.python.ToolContext`, which is not an argument of the model's.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, PydanticSchemaGenerationError, create_model

from worker.roles.schema_import import imported
from worker.yamlfile import did_you_mean

TYPE_WORDS = {"string": "a string", "number": "a number", "integer": "an integer", "boolean": "a boolean"}


@dataclass(frozen=True)
class Problem:
    """Why a function cannot be a tool, with what to do about it."""

    message: str
    hint: str = ""


@dataclass(frozen=True)
class PythonFunction:
    """An `async def` a python tool may call, read once."""

    ref: str
    """`package.module:name`."""
    function: Callable[..., Awaitable[Any]]
    context: str | None
    """The name of its `ToolContext` parameter, if it takes one."""
    arguments: type[BaseModel]
    """Its other parameters as a model: the model's arguments are converted with it before the call."""
    untyped: tuple[str, ...]
    """Parameters without a type hint (taken as they come)."""

    def derived(self) -> tuple[dict[str, Any], list[str]]:
        """Tool parameters from the type hints, and why OpenAI would not take them (empty: usable)."""
        if self.untyped:
            names = ", ".join(self.untyped)
            return {}, [f"parameters without a type hint: {names}"]
        return imported(self.arguments.model_json_schema())

    def mismatches(self, parameters: dict[str, Any]) -> list[tuple[tuple[str, ...], str]]:
        """How the role's `parameters` and this function's signature disagree: (where in `parameters`,
        what) each; empty when they agree."""
        properties = parameters.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        required = set(parameters.get("required") or ())
        fields = self.arguments.model_fields
        name = self.ref.partition(":")[2]
        out: list[tuple[tuple[str, ...], str]] = [
            (("properties", p), f"{p!r} is not a parameter of {name}()")
            for p in properties
            if p not in fields
        ]
        for field, info in fields.items():
            if not info.is_required():
                continue
            if field not in properties:
                out.append(((), f"{name}() requires {field!r}, which is not in properties"))
            elif field not in required:
                out.append(((), f"{name}() requires {field!r}, which is not in required"))
        hinted = imported(self.arguments.model_json_schema())[0].get("properties", {})
        for prop, schema in properties.items():
            ours, theirs = _json_types(schema), _json_types(hinted.get(prop))
            if prop in fields and prop not in self.untyped and ours and theirs and not _fits(ours, theirs):
                out.append(
                    (
                        ("properties", prop),
                        f"{_words(ours)} here, but {_words(theirs)} in {name}()'s type hint",
                    )
                )
        return out


def load(ref: str) -> PythonFunction | Problem:
    """Import `ref`'s module and read its function (cached: a module is imported once per process)."""
    return _load(ref)


@functools.cache
def _load(ref: str) -> PythonFunction | Problem:
    module_name, _, attribute = ref.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            return Problem(
                f"module {module_name} not found",
                "install the package in the worker's environment, or put it on its PYTHONPATH",
            )
        return Problem(f"module {module_name} cannot be imported: {exc}")
    except Exception as exc:  # importing runs the module: any error of its own
        return Problem(f"module {module_name} cannot be imported: {type(exc).__name__}: {exc}")
    function = getattr(module, attribute, None)
    if function is None:
        candidates = [n for n, v in vars(module).items() if inspect.iscoroutinefunction(v)]
        listed = ", ".join(candidates) or "(none)"
        hint = did_you_mean(attribute, candidates) or f"async functions there: {listed}"
        return Problem(f"{module_name} has no {attribute}", hint)
    if not inspect.iscoroutinefunction(function):
        return Problem(f"{ref} is not an async function", "python tools are written as async def")
    return _read(ref, function)


def _read(ref: str, function: Callable[..., Awaitable[Any]]) -> PythonFunction | Problem:
    from worker.tools.python import ToolContext  # run time only: worker.tools builds on this package

    try:
        hints = typing.get_type_hints(function, include_extras=True)
    except Exception as exc:  # a hint naming something the module does not have at run time
        return Problem(
            f"cannot read the type hints of {ref}: {exc}",
            "import what the hints name at run time (not only under TYPE_CHECKING)",
        )
    context: str | None = None
    fields: dict[str, Any] = {}
    untyped: list[str] = []
    for parameter in inspect.signature(function).parameters.values():
        hint = hints.get(parameter.name, inspect.Parameter.empty)
        if hint is ToolContext:
            context = parameter.name
            continue
        if parameter.kind not in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            return Problem(
                f"{ref} takes {_shown(parameter)}; python tools are called with named arguments only",
                "declare each argument as a parameter of its own",
            )
        if hint is inspect.Parameter.empty:
            untyped.append(parameter.name)
            hint = Any
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[parameter.name] = (hint, default)
    try:
        arguments = create_model(
            f"{function.__name__}_arguments", __config__=ConfigDict(extra="forbid"), **fields
        )
    except (PydanticSchemaGenerationError, TypeError, NameError) as exc:
        return Problem(f"the type hints of {ref} cannot be read as arguments: {exc}")
    return PythonFunction(ref, function, context, arguments, tuple(untyped))


def _shown(parameter: inspect.Parameter) -> str:
    if parameter.kind is parameter.VAR_POSITIONAL:
        return f"*{parameter.name}"
    if parameter.kind is parameter.VAR_KEYWORD:
        return f"**{parameter.name}"
    return f"the positional-only parameter {parameter.name}"


def _json_types(schema: Any) -> set[str]:
    """The JSON types a schema allows, where it says (empty: it does not say)."""
    if not isinstance(schema, dict):
        return set()
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {t for t in declared if isinstance(t, str)}
    options = schema.get("anyOf")
    if isinstance(options, list):
        found = [_json_types(option) for option in options]
        return set().union(*found) if all(found) else set()
    return set()


def _fits(ours: set[str], theirs: set[str]) -> bool:
    return all(t in theirs or (t == "integer" and "number" in theirs) for t in ours)


def _words(types: set[str]) -> str:
    return " or ".join(TYPE_WORDS.get(t, f"{'an' if t[0] in 'aeiou' else 'a'} {t}") for t in sorted(types))
