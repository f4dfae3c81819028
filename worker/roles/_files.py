"""Reading files under the roles directory: size cap, UTF-8, and the stay-inside-this-folder check."""

from __future__ import annotations

import os
import re

from worker.roles._yaml import MAX_FILE_BYTES
from worker.roles.errors import RoleSyntaxError

ROLE_SUFFIX = ".yaml"
NOT_ROLES = ("fragments", "prompts", "evals")
"""Subdirectories of the roles directory that hold other things (never roles)."""
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def display_path(path: str) -> str:
    """`path` relative to the working directory when it is inside it (what users typed), else absolute."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute)
    except ValueError:
        return absolute
    return absolute if relative.startswith("..") else relative


def read_text(path: str, display: str) -> str:
    """The file's text; `RoleSyntaxError` if it is too large or not UTF-8."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise RoleSyntaxError(
            f"file is larger than {MAX_FILE_BYTES // 1024} KiB",
            file=display,
            line=1,
            column=1,
            hint="split long prompts into prompt files and fragments",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise RoleSyntaxError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x})",
            file=display,
            line=line,
            column=column,
            hint="save the file as UTF-8",
        ) from None


def inside(root: str, relative: str) -> str:
    """The real path of `relative` under `root`; `ValueError` (with a user-facing reason) if it escapes.

    Like starlette's `StaticFiles.lookup_path`: resolve symlinks, then require the result to stay under
    the resolved root.
    """
    if os.path.isabs(relative) or relative.startswith(("~", "\\")) or re.match(r"^[A-Za-z]:", relative):
        raise ValueError("expected a path relative to the roles directory, found an absolute path")
    if ".." in re.split(r"[\\/]", relative):
        raise ValueError("'..' is not allowed in paths; files must be inside the roles directory")
    real_root = os.path.realpath(root)
    full = os.path.realpath(os.path.join(real_root, relative))
    if os.path.commonpath([full, real_root]) != real_root:
        raise ValueError("path resolves outside the roles directory (through a symlink)")
    return full


def list_named(directory: str, suffix: str = ROLE_SUFFIX) -> tuple[dict[str, str], list[str]]:
    """`({name: path}, [paths with invalid names])` for the `*<suffix>` files directly in `directory`."""
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
        if _NAME.match(stem):
            found[stem] = entry.path
        else:
            invalid.append(entry.path)
    return found, invalid
