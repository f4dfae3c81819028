"""The last valid version of each role, shared by every process on this machine that reads one folder.

livekit-agents runs each job in a process of its own, started before or after any edit. A process that
starts after an invalid edit has never seen a valid version itself, yet the web backend (another
process) still offers the role and dispatches it. So each registry writes every valid version it loads
here, and a registry that finds a role invalid serves the newest version stored here: every process
then agrees on "the last valid version" without signalling each other.

The store is a folder the worker creates at start-up (mode 0700, under the system temp folder) and
hands to its job processes through `ROLECALL_ROLES_STORE_DIR`, so it lives as long as the worker: a
restarted worker starts from the files as they are. It holds `<hash of the roles folder>/<name>.json`
(the role as JSON, validated again on read, never unpickled); nothing is written beside the roles, which
may be read-only (they are in `docker compose`). Writes are atomic (`os.replace`), and an older version
never overwrites a newer one (versions are ordered by the newest modification time of their files).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from typing import Any

import pydantic

from worker.roles.models import Role

logger = logging.getLogger("rolecall.roles")

FORMAT = 1


STORE_DIR_ENV = "ROLECALL_ROLES_STORE_DIR"
"""Set by the worker for its job processes (internal; not a user setting)."""


def create_store_dir() -> str:
    """A new private store folder for this worker run (removed by the caller at exit)."""
    return tempfile.mkdtemp(prefix="rolecall-roles-")


class LastValidStore:
    """`save` each valid version, `load` the newest one saved, `forget` a deleted role.

    Every failure to read or write is logged and treated as "nothing stored": the store only ever adds
    a fallback, it never stops a role from loading.
    """

    def __init__(self, directory: str, roles_dir: str) -> None:
        digest = hashlib.sha256(os.path.abspath(roles_dir).encode()).hexdigest()[:16]
        self.directory = os.path.join(directory, digest)
        """One sub-folder per roles folder, so registries of different folders never mix."""
        self._ready = False

    def save(self, role: Role, version_ns: int) -> None:
        """Store `role` unless a newer version is stored already."""
        path = self._path(role.name)
        if path is None:
            return
        stored = self._read(path)
        if stored is not None and stored["version_ns"] > version_ns:
            return
        body = json.dumps(
            {"format": FORMAT, "version_ns": version_ns, "role": role.model_dump_json(exclude_unset=True)}
        )
        try:
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{role.name}.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(body)
            os.replace(tmp, path)
        except OSError as exc:
            logger.warning("could not store the last valid version of role %s: %s", role.name, exc)
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)

    def load(self, name: str) -> Role | None:
        """The newest valid version of `name` any process stored, or None."""
        path = self._path(name)
        stored = self._read(path) if path is not None else None
        if stored is None:
            return None
        try:
            return Role.model_validate_json(stored["role"])
        except (ValueError, pydantic.ValidationError) as exc:
            logger.warning("ignoring the stored last valid version %s: %s", path, exc)
            return None

    def forget(self, name: str) -> None:
        """Drop the stored version of a role whose file was deleted."""
        path = self._path(name)
        if path is not None:
            with contextlib.suppress(OSError):
                os.unlink(path)

    def _path(self, name: str) -> str | None:
        if not self._ready:
            try:
                os.makedirs(self.directory, mode=0o700, exist_ok=True)
                st = os.stat(os.path.dirname(self.directory))
                if hasattr(os, "getuid") and st.st_uid != os.getuid():
                    raise OSError(f"{self.directory} belongs to another user")
            except OSError as exc:
                logger.warning("no shared store for last valid role versions: %s", exc)
                return None
            self._ready = True
        return os.path.join(self.directory, f"{name}.json")

    def _read(self, path: str) -> dict[str, Any] | None:
        """The stored record (`version_ns`, `role` as JSON text), unvalidated: `save` needs only the
        version, `load` validates the role."""
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            logger.warning("ignoring the stored last valid version %s: %s", path, exc)
            return None
        if (
            isinstance(data, dict)
            and data.get("format") == FORMAT
            and isinstance(data.get("version_ns"), int)
            and isinstance(data.get("role"), str)
        ):
            return data
        return None
