"""`RoleRegistry`: allowlist lookups and live reload (stat-based, so it also works across processes)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path

import pytest

from tests.roles.conftest import MINIMAL, Write
from worker.roles import InvalidRoleError, RoleRegistry, UnknownRoleError
from worker.roles.registry import RoleChange, RoleSummary

pytestmark = pytest.mark.unit


def role(name: str, title: str = "T", extra: str = "") -> str:
    return MINIMAL.format(name=name).replace("title: T", f"title: {title}") + extra


def _bump(path: Path) -> None:
    """Make sure the next stat sees a change even on coarse-mtime filesystems."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_get_and_names(write: Write, roles_dir: Path) -> None:
    write("a.yaml", role("a", "Alpha"))
    write("b.yaml", role("b"))
    registry = RoleRegistry(roles_dir)
    assert registry.names() == ["a", "b"]
    assert registry.get("a").title == "Alpha"
    assert registry.summaries() == [RoleSummary("a", "Alpha", "D"), RoleSummary("b", "T", "D")]


@pytest.mark.parametrize("name", ["../a", "a/../a", "/etc/passwd", "A", "", "fragments/x", "a.yaml", "c"])
def test_unknown_names_never_become_paths(write: Write, roles_dir: Path, name: str) -> None:
    write("a.yaml", role("a"))
    write("fragments/x.yaml", "instructions: x\n")
    with pytest.raises(UnknownRoleError) as info:
        RoleRegistry(roles_dir).get(name)
    assert info.value.valid == ["a"]
    assert str(info.value).endswith(f"role: unknown role {name!r} (hint: valid roles: a)")


def test_change_is_seen_by_the_next_get(write: Write, roles_dir: Path) -> None:
    path = write("a.yaml", role("a", "One"))
    registry = RoleRegistry(roles_dir)
    assert registry.get("a").title == "One"
    write("a.yaml", role("a", "Two"))
    _bump(path)
    assert registry.get("a").title == "Two"


def test_same_size_same_tick_edit_is_not_missed(write: Write, roles_dir: Path) -> None:
    path = write("a.yaml", role("a", "One"))
    registry = RoleRegistry(roles_dir)
    assert registry.get("a").title == "One"
    st = path.stat()
    write("a.yaml", role("a", "Owe"))  # same size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the same mtime
    assert registry.get("a").title == "Owe"


def test_invalid_edit_keeps_last_valid_version(
    write: Write, roles_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write("a.yaml", role("a", "Good"))
    registry = RoleRegistry(roles_dir)
    assert registry.get("a").title == "Good"
    write("a.yaml", role("a", "Bad", "model:\n  voice: nova\n"))
    _bump(path)
    with caplog.at_level(logging.WARNING, logger="rolecall.roles"):
        assert registry.get("a").title == "Good"
    assert "role a is invalid (keeping the last valid version)" in caplog.text
    assert [str(e) for e in registry.current_errors("a")] == [
        "roles/a.yaml:6:10: model.voice: expected one of alloy, ash, ballad, coral, echo, sage, shimmer, "
        "verse, "
        "marin, cedar, found 'nova'"
    ]
    assert list(registry.errors()) == ["roles/a.yaml"]


def test_never_valid_role_raises_invalid(write: Write, roles_dir: Path) -> None:
    write("a.yaml", role("a", extra="model: 3\n"))
    with pytest.raises(InvalidRoleError) as info:
        RoleRegistry(roles_dir).get("a")
    assert [str(e) for e in info.value.errors] == ["roles/a.yaml:5:8: model: expected a mapping, found 3"]


def test_deleted_role_is_gone(write: Write, roles_dir: Path) -> None:
    path = write("a.yaml", role("a"))
    write("b.yaml", role("b"))
    registry = RoleRegistry(roles_dir)
    registry.get("a")
    path.unlink()
    with pytest.raises(UnknownRoleError, match="valid roles: b"):
        registry.get("a")


def test_new_role_appears(write: Write, roles_dir: Path) -> None:
    write("a.yaml", role("a"))
    registry = RoleRegistry(roles_dir)
    assert registry.names() == ["a"]
    write("b.yaml", role("b"))
    assert registry.get("b").name == "b"


def test_prompt_file_change_reloads(write: Write, roles_dir: Path) -> None:
    prompt = write("prompts/a.md", "Version one.")
    write("a.yaml", "name: a\ntitle: T\ndescription: D\ninstructions: {file: prompts/a.md}\n")
    registry = RoleRegistry(roles_dir)
    assert registry.get("a").instructions == "Version one."
    write("prompts/a.md", "Version two, longer.")
    _bump(prompt)
    assert registry.get("a").instructions == "Version two, longer."


def test_fragment_change_reloads(write: Write, roles_dir: Path) -> None:
    fragment = write("fragments/f.yaml", "instructions: Old rule.\n")
    write("a.yaml", role("a", extra="include: [f]\n"))
    registry = RoleRegistry(roles_dir)
    assert registry.get("a").instructions.endswith("Old rule.")
    write("fragments/f.yaml", "instructions: New rule!\n")
    _bump(fragment)
    assert registry.get("a").instructions.endswith("New rule!")


def test_handoff_target_deletion_is_noticed(write: Write, roles_dir: Path) -> None:
    target = write("b.yaml", role("b"))
    write("a.yaml", role("a", extra="tools:\n  - {kind: handoff, name: h, description: d, target: b}\n"))
    registry = RoleRegistry(roles_dir)
    registry.get("a")
    target.unlink()
    registry.get("a")  # still served: last valid version
    assert [str(e) for e in registry.current_errors("a")] == [
        "roles/a.yaml:6:54: tools[0].target: unknown role 'b' (hint: existing roles: (none))"
    ]


def test_unchanged_get_is_cheap(write: Write, roles_dir: Path) -> None:
    path = write("a.yaml", role("a"))
    old = time.time_ns() - 10_000_000_000
    os.utime(path, ns=(old, old))
    os.utime(roles_dir, ns=(old, old))
    registry = RoleRegistry(roles_dir)
    first = registry.get("a")
    start = time.perf_counter()
    for _ in range(1000):
        assert registry.get("a") is first
    assert time.perf_counter() - start < 0.5


async def test_watch_yields_new_versions_errors_and_removals(write: Write, roles_dir: Path) -> None:
    path = write("a.yaml", role("a", "One"))
    registry = RoleRegistry(roles_dir)
    stop = asyncio.Event()
    changes: list[RoleChange] = []

    async def consume() -> None:
        async for change in registry.watch(stop_event=stop):
            changes.append(change)

    async def wait_for(count: int) -> None:
        for _ in range(200):
            if len(changes) >= count:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"expected {count} changes, got {changes}")

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.3)
    write("a.yaml", role("a", "Two"))
    await wait_for(1)
    write("a.yaml", role("a", "Two", "model:\n  voice: nova\n"))
    await wait_for(2)
    path.unlink()
    await wait_for(3)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert changes[0].ok and changes[0].role is not None and changes[0].role.title == "Two"
    assert not changes[1].ok and "model.voice" in changes[1].error
    assert changes[2].removed


def test_change_detected_by_stat_outside_the_racy_window(write: Write, roles_dir: Path) -> None:
    path = write("a.yaml", role("a", "One"))
    old = time.time_ns() - 60_000_000_000
    os.utime(path, ns=(old, old))
    registry = RoleRegistry(roles_dir)
    first = registry.get("a")
    assert registry.get("a") is first  # not racy: no reload
    write("a.yaml", role("a", "Two"))
    os.utime(path, ns=(old + 1_000_000_000, old + 1_000_000_000))  # still long ago, but a different stamp
    assert registry.get("a").title == "Two"
