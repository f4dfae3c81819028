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
from worker.roles import RoleRegistry, UnknownRoleError
from worker.roles.loader import RoleLoader

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


_FRESH_GET = """
import sys
from worker.roles import RoleError, RoleRegistry
try:
    print(RoleRegistry(sys.argv[1], store_dir=sys.argv[3] or None).get(sys.argv[2]).title)
except RoleError as exc:
    print(type(exc).__name__)
"""


def _in_new_process(roles_dir: Path, name: str, store_dir: str | None) -> str:
    """A new process's answer for role `name`: its title, or the class name of the error."""
    result = subprocess.run(
        [sys.executable, "-c", _FRESH_GET, str(roles_dir), name, store_dir or ""],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _bump(path: Path, seconds: int) -> None:
    """Move the file's mtime forward, as a later save would (edits within one tick are otherwise equal)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + seconds * 1_000_000_000))


def test_a_process_started_after_an_invalid_edit_serves_the_last_valid_version(
    write: Write, roles_dir: Path, tmp_path: Path
) -> None:
    store = str(tmp_path / "store")
    path = write("a.yaml", MINIMAL.format(name="a").replace("title: T", "title: First"))
    watcher = RoleRegistry(roles_dir, store_dir=store)  # the worker's own process, watching
    assert watcher.get("a").title == "First"

    # A second valid version, loaded first by another process (a job), never by the watcher.
    write("a.yaml", MINIMAL.format(name="a").replace("title: T", "title: Second"))
    _bump(path, 1)
    assert _in_new_process(roles_dir, "a", store) == "Second"

    # An invalid edit: a job process that starts now never saw a valid version itself.
    write("a.yaml", MINIMAL.format(name="a").replace("title: T", "title: Broken") + "voice: nobody\n")
    _bump(path, 2)
    assert _in_new_process(roles_dir, "a", store) == "Second"
    assert watcher.get("a").title == "Second"  # not its own older "First": the newest valid one
    assert [e.field for e in watcher.current_errors("a")] == ["voice"]

    # Without the shared store a new process has nothing to fall back on.
    assert _in_new_process(roles_dir, "a", None) == "InvalidRoleError"

    # A deleted role is gone for everyone, and a broken file of the same name starts from nothing.
    path.unlink()
    with pytest.raises(UnknownRoleError):
        watcher.get("a")
    write("a.yaml", MINIMAL.format(name="a") + "voice: nobody\n")
    assert _in_new_process(roles_dir, "a", store) == "InvalidRoleError"


def test_an_older_version_never_replaces_a_newer_one_in_the_store(
    write: Write, roles_dir: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    path = write("a.yaml", MINIMAL.format(name="a").replace("title: T", "title: Old"))
    slow = RoleRegistry(roles_dir, store_dir=str(store))
    old_role = RoleLoader(roles_dir).load(str(path)).role
    assert old_role is not None
    write("a.yaml", MINIMAL.format(name="a").replace("title: T", "title: New"))
    _bump(path, 1)
    assert slow.get("a").title == "New"
    # A process that read the old file before the save stores what it read only afterwards.
    from worker.roles._last_valid import LastValidStore

    LastValidStore(str(store), str(roles_dir)).save(old_role, version_ns=1)
    write("a.yaml", "name: a\n")
    _bump(path, 2)
    assert RoleRegistry(roles_dir, store_dir=str(store)).get("a").title == "New"
