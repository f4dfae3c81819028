"""Fixtures: a scratch roles directory under a temporary working directory (so paths print as roles/...)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from worker.roles.loader import RoleLoader

MINIMAL = "name: {name}\ntitle: T\ndescription: D\ninstructions: Hello.\n"
"""The smallest valid role (format with name=...)."""

Write = Callable[[str, str | bytes], Path]
Check = Callable[..., list[str]]


@pytest.fixture
def roles_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`<tmp>/roles` with fragments/ and prompts/, the working directory set to `<tmp>`."""
    roles = tmp_path / "roles"
    (roles / "fragments").mkdir(parents=True)
    (roles / "prompts").mkdir()
    monkeypatch.chdir(tmp_path)
    return roles


@pytest.fixture
def write(roles_dir: Path) -> Write:
    """Write a file under the roles directory."""

    def _write(relative: str, content: str | bytes) -> Path:
        path = roles_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def check(roles_dir: Path, write: Write) -> Check:
    """Write `roles/a.yaml` (plus a valid `sommelier` role and any extra files); return its error lines."""

    def _check(text: str | bytes, extra: dict[str, str] | None = None, target: str = "a.yaml") -> list[str]:
        write("sommelier.yaml", MINIMAL.format(name="sommelier"))
        for relative, content in (extra or {}).items():
            write(relative, content)
        write(target, text)
        result = RoleLoader(roles_dir).load(os.fspath(roles_dir / target))
        return [str(error) for error in result.errors]

    return _check
