"""Reading files people write: a size cap, UTF-8, the stay-inside-this-folder check, named files."""

from __future__ import annotations

import os
import re

from worker.errors import FileError

MAX_FILE_BYTES = 256 * 1024
"""Files larger than this are refused (nobody writes a 256 KiB prompt, scenario or price table)."""


def display_path(path: str) -> str:
    """`path` relative to the working directory when it is inside it (what users typed), else absolute."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute)
    except ValueError:
        return absolute
    return absolute if relative.startswith("..") else relative


def read_text(path: str, display: str, *, error: type[FileError] = FileError, hint: str = "") -> str:
    """The file's text; `error` if it is larger than `MAX_FILE_BYTES` (with `hint`) or not UTF-8.

    `OSError` (a missing or unreadable file) propagates: each caller words it for its own file.
    """
    with open(path, "rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise error(
            f"file is larger than {MAX_FILE_BYTES // 1024} KiB", file=display, line=1, column=1, hint=hint
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise error(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x})",
            file=display,
            line=line,
            column=column,
            hint="save the file as UTF-8",
        ) from None


def inside(root: str, relative: str, *, root_name: str) -> str:
    """The real path of `relative` under `root`; `ValueError` (with a user-facing reason) if it escapes.

    `root_name` is how the reason names `root` ("the roles directory"). Like starlette's
    `StaticFiles.lookup_path`: resolve symlinks, then require the result to stay under the resolved root.
    """
    if os.path.isabs(relative) or relative.startswith(("~", "\\")) or re.match(r"^[A-Za-z]:", relative):
        raise ValueError(f"expected a path relative to {root_name}, found an absolute path")
    if ".." in re.split(r"[\\/]", relative):
        raise ValueError(f"'..' is not allowed in paths; files must be inside {root_name}")
    real_root = os.path.realpath(root)
    full = os.path.realpath(os.path.join(real_root, relative))
    if os.path.commonpath([full, real_root]) != real_root:
        raise ValueError(f"path resolves outside {root_name} (through a symlink)")
    return full


def list_named(directory: str, suffix: str, name: str) -> tuple[dict[str, str], list[str]]:
    """`({stem: path}, [paths with invalid stems])` for the `*<suffix>` files directly in `directory`.

    A stem is valid when it matches the regular expression `name`; hidden (`.`) and editor backup
    (`~`) files are skipped.
    """
    pattern = re.compile(name)
    found: dict[str, str] = {}
    invalid: list[str] = []
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return found, invalid
    for entry in entries:
        if not entry.name.endswith(suffix) or entry.name.startswith((".", "~")):
            continue
        if not entry.is_file():
            continue
        stem = entry.name[: -len(suffix)]
        if pattern.match(stem):
            found[stem] = entry.path
        else:
            invalid.append(entry.path)
    return found, invalid
