"""One logger namespace: every logger in `worker` is `rolecall` or `rolecall.<part>`, named by a literal.

Operators filter and silence RoleCall's logs by that one prefix; `__name__` would put some of them
under `worker.*`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

WORKER = Path(__file__).resolve().parents[2] / "worker"


def _logger_names() -> list[tuple[str, str]]:
    """`(file:line, the name expression)` of every `getLogger(...)` call under `worker/`."""
    found: list[tuple[str, str]] = []
    for path in sorted(WORKER.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "getLogger":
                argument = ast.unparse(node.args[0]) if node.args else "<root>"
                found.append((f"{path.relative_to(WORKER.parent)}:{node.lineno}", argument))
    return found


def test_every_logger_is_named_rolecall_something() -> None:
    names = _logger_names()
    assert len(names) > 20  # the walk found them
    wrong = [
        (where, argument)
        for where, argument in names
        if not (argument == "'rolecall'" or argument.startswith("'rolecall."))
        # The root logger, only to give its handlers a formatter (ROLECALL_LOG_FORMAT=json).
        and not (argument == "<root>" and where.startswith("worker/_livekit_compat.py"))
    ]
    assert wrong == []
