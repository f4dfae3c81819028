"""One error tree: every exception class in `worker` is a `RoleCallError`, drawn in `worker.errors`.

The docstring of `worker.errors` draws the tree; these tests hold the code and the drawing to each other:
every exception class defined anywhere in `worker` derives from `RoleCallError` (or is listed below with
the reason it does not), every `RoleCallError` is drawn, and every drawn edge is a real subclass.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import worker
import worker.errors
from worker.errors import ConfigError, FileError, RoleCallError

pytestmark = pytest.mark.unit

OUTSIDE = {
    # Wire encodings: answers sent to a client, not failures of RoleCall.
    "worker.web.errors.ApiError": "an HTTP error response",
    "worker.simulator.events.ProtocolError": "an OpenAI `error` event the simulator sends",
    # Internal signals, caught by the code that raises them and never shown to a user as such.
    "worker.simulator.response.ConnectionGone": "the simulator's socket is gone: stop quietly",
    "worker.bodies.BodyTooLarge": "read_capped's callers answer 413 or fail the tool call",
    "worker.tools.egress.EgressRefused": "an OSError, as aiohttp expects from a resolver",
    "worker.web.models._NotJson": "private to the JSON body parser",
    "worker.tools.guard._Refused": "private to the tool guard: carries the ToolError of a refused call",
}
"""Exception classes that are not `RoleCallError`s, on purpose."""

PENDING: set[str] = set()
"""Classes drawn in the tree but not re-based yet (none now)."""


def _exception_classes() -> dict[str, type[BaseException]]:
    """Every exception class defined in a module of `worker`, by `module.QualifiedName`."""
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(worker.__path__, "worker."):
        if info.name == "worker.__main__":  # runs the CLI when imported
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


def _drawn_edges() -> list[tuple[str, str | None]]:
    """`(class name, parent name)` for every class drawn in `worker.errors`' docstring, in order."""
    edges: list[tuple[str, str | None]] = []
    parents: list[str] = []
    for line in (worker.errors.__doc__ or "").splitlines():
        if line.startswith("    RoleCallError "):
            parents = ["RoleCallError"]
            edges.append(("RoleCallError", None))
            continue
        match = re.match(r"^    ((?:[│ ]   )*)[├└]── (\w+)\s", line)
        if match is None:
            continue
        depth = len(match.group(1)) // 4 + 1
        parents = parents[:depth]
        edges.append((match.group(2), parents[-1]))
        parents.append(match.group(2))
    return edges


CLASSES = _exception_classes()
BY_NAME = {qualified.rsplit(".", 1)[1]: cls for qualified, cls in CLASSES.items()}


def test_every_exception_class_is_a_rolecall_error_or_says_why_not() -> None:
    strays = [
        name
        for name, cls in CLASSES.items()
        if not issubclass(cls, RoleCallError) and name not in OUTSIDE and name not in PENDING
    ]
    assert strays == [], "derive these from a class in worker.errors (or list them in OUTSIDE, with why)"


@pytest.mark.parametrize("name", sorted(OUTSIDE.keys() | PENDING))
def test_the_exceptions_to_the_tree_exist_and_are_still_outside_it(name: str) -> None:
    assert name in CLASSES, f"{name} is gone: remove it from this test"
    assert not issubclass(CLASSES[name], RoleCallError), f"{name} is a RoleCallError now: remove it here"


def test_the_drawing_names_every_rolecall_error() -> None:
    drawn = {name for name, _ in _drawn_edges()}
    undrawn = [name for name, cls in CLASSES.items() if issubclass(cls, RoleCallError)]
    assert [name for name in undrawn if name.rsplit(".", 1)[1] not in drawn] == []


def test_every_drawn_edge_is_a_real_subclass() -> None:
    edges = _drawn_edges()
    assert len(edges) >= 20  # the parser found the tree
    pending = {name.rsplit(".", 1)[1] for name in PENDING}
    for name, parent in edges:
        assert name in BY_NAME, f"{name} is drawn but defined nowhere in worker"
        if parent is None or name in pending:
            continue
        assert issubclass(BY_NAME[name], BY_NAME[parent]), f"{name} is drawn under {parent}"


def test_file_errors_read_file_line_column_field_message_hint() -> None:
    error = FileError("expected text", file="a.yaml", line=3, column=7, field="title", hint="quote it")
    assert str(error) == "a.yaml:3:7: title: expected text (hint: quote it)"
    assert str(FileError("cannot read", file="a.yaml")) == "a.yaml: cannot read"
    assert FileError("x", file="a.yaml", line=1) == FileError("x", file="a.yaml", line=1)
    assert isinstance(error, RoleCallError) and issubclass(FileError, RoleCallError)


def test_config_errors_are_caught_as_one() -> None:
    from worker.pricing import PriceTableError
    from worker.settings import SettingsError

    assert issubclass(SettingsError, ConfigError) and issubclass(PriceTableError, ConfigError)
    assert issubclass(PriceTableError, FileError)
