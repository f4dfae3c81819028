"""Static path resolution: files never leave the built app's folder (pure, on a scratch folder)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from worker.web.static import is_safe, lookup

pytestmark = pytest.mark.unit


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """<tmp>/dist with an app, next to a secret it must never serve."""
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>app</title>")
    (root / "assets" / "app-1234.js").write_text("console.log('app')")
    (root / ".env").write_text("LIVEKIT_API_SECRET=leak")
    (tmp_path / "secret.txt").write_text("outside")
    (tmp_path / "dist-evil").mkdir()
    (tmp_path / "dist-evil" / "x.txt").write_text("sibling with a common prefix")
    return root


def test_files_inside_are_found(dist: Path) -> None:
    assert lookup(dist, "index.html") == (dist / "index.html").resolve()
    assert lookup(dist, "/assets/app-1234.js") == (dist / "assets" / "app-1234.js").resolve()
    assert lookup(dist, "assets//app-1234.js") == (dist / "assets" / "app-1234.js").resolve()


@pytest.mark.parametrize(
    "path",
    [
        "../secret.txt",
        "/../secret.txt",
        "assets/../../secret.txt",
        "assets/../index.html",  # `..` is refused even when it would stay inside
        "..\\secret.txt",
        "assets\\..\\..\\secret.txt",
        "../dist-evil/x.txt",
        "C:/Windows/win.ini",
        "index.html\x00.js",
        ".env",
        "assets/.hidden",
        "./index.html",
    ],
)
def test_traversal_and_odd_paths_are_refused(dist: Path, path: str) -> None:
    assert lookup(dist, path) is None
    assert not is_safe(path)


def test_absolute_paths_are_taken_relative_to_the_root(dist: Path, tmp_path: Path) -> None:
    assert lookup(dist, str(tmp_path / "secret.txt")) is None
    assert lookup(dist, "//etc/passwd") is None


def test_directories_and_missing_files_are_not_served(dist: Path) -> None:
    assert lookup(dist, "assets") is None
    assert lookup(dist, "") is None
    assert lookup(dist, "missing.js") is None
    assert lookup(dist.parent / "no-such-dist", "index.html") is None


def test_symlinks_leading_out_are_refused(dist: Path, tmp_path: Path) -> None:
    os.symlink(tmp_path / "secret.txt", dist / "link.txt")
    os.symlink(tmp_path, dist / "up")
    os.symlink(dist / "loop", dist / "loop")
    assert lookup(dist, "link.txt") is None
    assert lookup(dist, "up/secret.txt") is None
    assert lookup(dist, "loop") is None


def test_symlinks_staying_inside_are_served(dist: Path) -> None:
    os.symlink(dist / "assets" / "app-1234.js", dist / "app.js")
    assert lookup(dist, "app.js") == (dist / "assets" / "app-1234.js").resolve()


def test_a_symlinked_root_is_resolved_first(dist: Path, tmp_path: Path) -> None:
    os.symlink(dist, tmp_path / "current")
    assert lookup(tmp_path / "current", "index.html") == (dist / "index.html").resolve()
    assert lookup(tmp_path / "current", "../secret.txt") is None
