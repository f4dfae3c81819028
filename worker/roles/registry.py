"""`RoleRegistry`: the allowlist of roles, always serving the latest valid version of each.

Correct under livekit-agents' process-per-job model without any cross-process signalling: every `get`
stats the role file and everything it was built from (prompt files, fragments, the directory for handoff
targets) and reloads when any (mtime_ns, size, inode) changed. An unchanged role costs a few `stat`s.
Files modified within `RACY_NS` of being read are reloaded on each `get` until that window has passed
(git's "racily clean" rule), so an edit landing in the same mtime tick as a read is never missed.

"The last valid version" is shared between processes through `LastValidStore`: a job process started
after an invalid edit serves the version some other process (the worker's role watcher, the web backend,
an earlier job) last loaded, instead of refusing a role the web backend still offers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import watchfiles

from worker.roles._files import list_named
from worker.roles._last_valid import STORE_DIR_ENV, LastValidStore
from worker.roles.errors import InvalidRoleError, RoleError, UnknownRoleError
from worker.roles.loader import RoleLoader, check_dir
from worker.roles.models import ROLE_NAME, Role
from worker.roles.policy import RolePolicy

logger = logging.getLogger("rolecall.roles")

ROLES_DIR_ENV = "ROLECALL_ROLES_DIR"
"""Environment variable naming the roles directory (default `roles`)."""
RACY_NS = 2_000_000_000
"""Files modified less than this long before they were read are re-read on every lookup."""

_NAME = re.compile(ROLE_NAME)
_Stamp = tuple[int, int, int]


def default_roles_dir() -> str:
    """`$ROLECALL_ROLES_DIR`, or `roles`."""
    return os.environ.get(ROLES_DIR_ENV) or "roles"


def _stamp(path: str) -> _Stamp | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


@dataclass(frozen=True)
class RoleSummary:
    """What a role picker shows."""

    name: str
    title: str
    description: str


@dataclass(frozen=True)
class RoleChange:
    """One change seen by `RoleRegistry.watch()`.

    `role` is the new valid version; when the edit is invalid it is None and `errors` says why (the last
    valid version keeps being served); when the file was deleted, `removed` is True.
    """

    name: str
    role: Role | None
    errors: tuple[RoleError, ...] = ()
    removed: bool = False

    @property
    def ok(self) -> bool:
        """True when this change brings a new valid version."""
        return self.role is not None

    @property
    def error(self) -> str:
        """The errors as one line each (empty when the change is valid)."""
        if self.removed:
            return f"role {self.name} was deleted"
        return "\n".join(str(e) for e in self.errors)


@dataclass
class _Entry:
    path: str
    role: Role | None
    errors: list[RoleError]
    stamps: dict[str, _Stamp | None] = field(default_factory=dict)
    loaded_ns: int = 0


class RoleRegistry:
    """Roles in one directory, by name; `get` always returns the latest valid version.

    `policy`: what roles may reference on this deployment (build it from the settings with
    `Settings.role_policy()`); default `RolePolicy()`, the policy of default settings.
    """

    def __init__(
        self,
        roles_dir: str | os.PathLike[str] | None = None,
        *,
        store_dir: str | None = None,
        policy: RolePolicy | None = None,
    ) -> None:
        self.roles_dir = os.path.abspath(roles_dir if roles_dir is not None else default_roles_dir())
        self.policy = policy if policy is not None else RolePolicy()
        store_dir = store_dir if store_dir is not None else os.environ.get(STORE_DIR_ENV)
        self._store = LastValidStore(store_dir, self.roles_dir) if store_dir else None
        """Shared with the worker's other processes (see `worker.roles._last_valid`); None: this one only."""
        self._lock = threading.RLock()
        self._entries: dict[str, _Entry] = {}
        self._listing: dict[str, str] = {}
        self._listing_stamp: tuple[_Stamp | None, int] = (None, 0)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    # ------------------------------------------------------------------------------------------ lookups

    def names(self) -> list[str]:
        """Names of the role files present now, sorted (valid or not)."""
        with self._lock:
            return sorted(self._files())

    def get(self, name: str) -> Role:
        """The latest valid version of role `name`.

        Raises `UnknownRoleError` when no such role file exists (the name is checked against the pattern
        and the directory listing; it is never used as a path), `InvalidRoleError` when the file exists but
        has never been valid.
        """
        with self._lock:
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                raise UnknownRoleError(str(name)[:80], sorted(self._files()), file=self.roles_dir)
            files = self._files()
            if name not in files:
                if self._entries.pop(name, None) is not None and self._store is not None:
                    self._store.forget(name)
                raise UnknownRoleError(name, sorted(files), file=self.roles_dir)
            entry = self._fresh(name, files[name])
            if entry.role is None:
                raise InvalidRoleError(name, entry.errors, file=entry.path)
            return entry.role

    def current_errors(self, name: str) -> list[RoleError]:
        """Problems with the role file as it is now (empty when it is valid)."""
        with self._lock:
            files = self._files()
            return list(self._fresh(name, files[name]).errors) if name in files else []

    def summaries(self) -> list[RoleSummary]:
        """Name, title and description of every role that has a valid version, sorted by name."""
        result = []
        for name in self.names():
            try:
                role = self.get(name)
            except RoleError:
                continue
            result.append(RoleSummary(role.name, role.title, role.description))
        return result

    def errors(self) -> dict[str, list[RoleError]]:
        """Current problems, by file (roles, fragments, prompt files, badly named files)."""
        report = check_dir(self.roles_dir, policy=self.policy)
        grouped: dict[str, list[RoleError]] = {}
        for error in [e for r in report.results for e in r.errors] + report.other_errors:
            grouped.setdefault(error.file, []).append(error)
        return grouped

    # ------------------------------------------------------------------------------------------ watching

    async def watch(
        self, *, debounce_ms: int = 50, stop_event: asyncio.Event | None = None
    ) -> AsyncIterator[RoleChange]:
        """Yield a `RoleChange` whenever a role's valid version or its errors change (watchfiles-based).

        A live session can `async for change in registry.watch()` and apply `change.role` when
        `change.name` is its role. Ends when `stop_event` is set.
        """
        state = await asyncio.to_thread(self._snapshot)
        async for _ in watchfiles.awatch(
            self.roles_dir, debounce=debounce_ms, stop_event=stop_event, step=20
        ):
            new_state = await asyncio.to_thread(self._snapshot)
            for name in sorted(set(state) | set(new_state)):
                before, after = state.get(name), new_state.get(name)
                if before == after:
                    continue
                if after is None:
                    yield RoleChange(name, None, removed=True)
                elif not after[1]:
                    yield RoleChange(name, after[0])
                else:
                    yield RoleChange(name, None, after[1])
            state = new_state

    def _snapshot(self) -> dict[str, tuple[Role | None, tuple[RoleError, ...]]]:
        with self._lock:
            files = self._files()
            for name in list(self._entries):
                if name not in files:
                    del self._entries[name]
                    if self._store is not None:
                        self._store.forget(name)
            snapshot = {}
            for name, path in files.items():
                entry = self._fresh(name, path)
                snapshot[name] = (entry.role, tuple(entry.errors))
            return snapshot

    # ------------------------------------------------------------------------------------------ internals

    def _files(self) -> dict[str, str]:
        stamp = _stamp(self.roles_dir)
        now = time.time_ns()
        cached, listed_ns = self._listing_stamp
        if stamp is None or stamp != cached or stamp[0] >= listed_ns - RACY_NS:
            self._listing = list_named(self.roles_dir)[0]
            self._listing_stamp = (stamp, now)
        return self._listing

    def _fresh(self, name: str, path: str) -> _Entry:
        entry = self._entries.get(name)
        if entry is not None and entry.path == path and not self._stale(entry):
            return entry
        return self._reload(name, path, entry)

    @staticmethod
    def _stale(entry: _Entry) -> bool:
        for dep, old in entry.stamps.items():
            new = _stamp(dep)
            if new != old or (new is not None and new[0] >= entry.loaded_ns - RACY_NS):
                return True
        return False

    def _reload(self, name: str, path: str, previous: _Entry | None) -> _Entry:
        loaded_ns = time.time_ns()
        result = RoleLoader(self.roles_dir, policy=self.policy).load(path)
        stamps = {dep: _stamp(dep) for dep in result.dependencies}
        if result.role is not None:
            entry = _Entry(path, result.role, [], stamps, loaded_ns)
            if self._store is not None:
                version_ns = max((s[0] for s in stamps.values() if s is not None), default=loaded_ns)
                self._store.save(result.role, version_ns)
        else:
            # The store holds the newest valid version any process loaded (this one's included).
            last_valid = self._store.load(name) if self._store is not None else None
            if last_valid is None and previous is not None and previous.path == path:
                last_valid = previous.role
            entry = _Entry(path, last_valid, result.errors, stamps, loaded_ns)
            if previous is None or previous.errors != result.errors:
                serving = "keeping the last valid version" if last_valid is not None else "not available"
                logger.warning(
                    "role %s is invalid (%s):\n  %s",
                    name,
                    serving,
                    "\n  ".join(str(e) for e in result.errors),
                )
        if previous is not None and previous.role is not None and entry.role is not previous.role:
            if entry.role == previous.role:
                entry.role = previous.role  # same content: keep the identical object
            elif result.role is not None:
                logger.info("role %s reloaded from %s", name, result.file)
        self._entries[name] = entry
        return entry
