"""The roles command and the registry seen from other processes (the worker runs one process per job).

Marked `integration`: pyproject defines `unit` as "no child processes", and these start some.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.roles.conftest import MINIMAL, Write
from worker.roles import RoleRegistry

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def test_roles_check_on_the_starter_roles() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "worker", "roles", "check", "roles/"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "ok  concierge      (roles/concierge.yaml)",
        "ok  cooking-guide  (roles/cooking-guide.yaml)",
        "ok  sommelier      (roles/sommelier.yaml)",
    ]


def test_roles_check_exit_code_on_errors(write: Write, roles_dir: Path) -> None:
    write("a.yaml", "name: a\n")
    result = subprocess.run(
        [sys.executable, "-m", "worker", "roles", "check", "roles"],
        cwd=roles_dir.parent,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "roles/a.yaml:1:1: description: missing required key 'description'",
        "roles/a.yaml:1:1: instructions: missing required key 'instructions'",
        "roles/a.yaml:1:1: title: missing required key 'title'",
    ]


def test_spawned_child_sees_the_update_despite_an_inherited_cache(write: Write, roles_dir: Path) -> None:
    path = write("a.yaml", MINIMAL.format(name="a").replace("title: T", "title: Before"))
    registry = RoleRegistry(roles_dir)
    assert registry.get("a").title == "Before"  # the parent's cache now holds the old version
    write("a.yaml", MINIMAL.format(name="a").replace("title: T", "title: After!"))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    # The bound method pickles the registry, cache and all; the spawned child runs registry.get("a").
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        role = pool.apply_async(registry.get, ("a",)).get(timeout=60)
    assert role.title == "After!"
