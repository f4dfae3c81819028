"""The spool: one append-only JSON-lines file per session, on disk from the session's start to its delivery.

    <ROLECALL_SPOOL_DIR>/<agent name>/
        outbox/evt_<id>.jsonl    being written by its session, or waiting for delivery
        done/evt_<id>.jsonl      delivered (or kept, when no webhook is configured)
        dead/evt_<id>.jsonl      given up on after the last attempt, or refused with 410 Gone

**Who writes.** The session's job process (`SpoolWriter`) creates the file, takes an exclusive `flock`
on it and holds it for the whole session, appending one record per line of transcript, tool call, role
change and usage update, then the `final` record (the whole report) before it lets go. The worker's main
process (`worker.outbox.delivery`) appends what happened to each delivery attempt, holding the same lock.

**How a crash is seen.** The kernel drops a `flock` when its process dies, however it dies (SIGKILL,
SIGSEGV, OOM): a file in `outbox/` without a `final` record that nobody holds is a session whose process
ended without finishing. No process ids are compared, so this also holds across containers sharing one
volume, and after a restart. (`flock`, not `fcntl` locks: those belong to a process, and under the
`thread` executor one process holds many sessions. The folder must be on a local file system.)

**Durability.** Each record is one `write()` to a file opened with `O_APPEND`: it is in the kernel the
moment it is written and survives the death of the process. The file is `fsync`ed off the session's event
loop at most every `FSYNC_INTERVAL_S` while records come, and once after the `final` record, so a
power cut or kernel crash loses at most the last few seconds. A record is at most a line of transcript
or one tool call; a file stops taking checkpoints past `MAX_FILE_BYTES` (its report stays complete).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger("rolecall.outbox")

FORMAT = 1
SUFFIX = ".jsonl"
TMP_PREFIX = ".tmp-"
FSYNC_INTERVAL_S = 5.0
MAX_FILE_BYTES = 32 * 1024 * 1024
FOLDERS = ("outbox", "done", "dead")

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")
EVENT_ID = re.compile(r"^evt_[0-9a-f]{32}$")


def new_event_id() -> str:
    """A new event id: `evt_` and 32 hex digits."""
    return f"evt_{uuid.uuid4().hex}"


def agent_folder(agent_name: str) -> str:
    """A folder name for an agent name (its own spelling when that is safe in a path)."""
    safe = _SAFE.sub("_", agent_name)[:64] or "_"
    if safe != agent_name or safe.startswith("."):
        safe = f"{safe.lstrip('.') or '_'}-{hashlib.sha256(agent_name.encode()).hexdigest()[:8]}"
    return safe


@dataclass(frozen=True)
class SpoolDir:
    """The spool folders of one agent name (every worker of one deployment shares them)."""

    root: Path

    @classmethod
    def of(cls, spool_dir: Path, agent_name: str) -> SpoolDir:
        return cls(Path(spool_dir) / agent_folder(agent_name))

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def done(self) -> Path:
        return self.root / "done"

    @property
    def dead(self) -> Path:
        return self.root / "dead"

    def create(self) -> None:
        """Make the folders (private: reports hold transcripts); OSError when that is impossible."""
        for folder in (self.root.parent, self.root, self.outbox, self.done, self.dead):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    def files(self, folder: Path) -> list[Path]:
        """The event files in `folder`, oldest first (by modification time)."""
        try:
            names = [
                n for n in os.listdir(folder) if n.endswith(SUFFIX) and EVENT_ID.match(n[: -len(SUFFIX)])
            ]
        except FileNotFoundError:
            return []
        paths = [folder / n for n in names]
        with contextlib.suppress(OSError):
            paths.sort(key=lambda p: p.stat().st_mtime if p.exists() else 0.0)
        return paths

    def all_files(self) -> Iterator[tuple[str, Path]]:
        """(status, path) of every event file: `pending`, `delivered` or `dead`."""
        for status, folder in (("pending", self.outbox), ("delivered", self.done), ("dead", self.dead)):
            for path in self.files(folder):
                yield status, path


def encode(kind: str, fields: dict[str, Any]) -> bytes:
    """One record as a line."""
    return json.dumps({"t": kind, **fields}, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class SpoolWriter:
    """The job process's side: one session's file, locked from its creation until the report is in it."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path
        self._size = os.fstat(fd).st_size
        self._lock = threading.Lock()
        self._synced = time.monotonic()
        self._syncing = False
        self._full_warned = False

    @classmethod
    def open(cls, spool: SpoolDir, event_id: str, start: dict[str, Any]) -> SpoolWriter:
        """Create, lock and start the file of a new session (`start`: the session's fixed facts).

        The file is created and locked under a temporary name and renamed once locked, so a deliverer
        never sees a session's file unlocked while the session runs.
        """
        tmp = spool.outbox / f"{TMP_PREFIX}{event_id}{SUFFIX}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _write_all(fd, encode("start", {"format": FORMAT, "id": event_id, "pid": os.getpid(), **start}))
            path = spool.outbox / f"{event_id}{SUFFIX}"
            os.rename(tmp, path)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return cls(fd, path)

    @property
    def closed(self) -> bool:
        return self._fd is None

    def append(self, kind: str, fields: dict[str, Any]) -> None:
        """Checkpoint one record (a `Journal`): never raises, never waits for the disk."""
        line = encode(kind, fields)
        with self._lock:
            if self._fd is None:
                return
            if self._size + len(line) > MAX_FILE_BYTES:
                if not self._full_warned:
                    self._full_warned = True
                    logger.warning(
                        "spool file %s is full: no more checkpoints of this session", self.path.name
                    )
                return
            try:
                _write_all(self._fd, line)
            except OSError as exc:  # a full disk must not end the session; the report is still sent
                logger.warning("cannot checkpoint the session to %s: %s", self.path.name, exc)
                return
            self._size += len(line)
        self._sync_soon()

    def _sync_soon(self) -> None:
        if self._syncing or time.monotonic() - self._synced < FSYNC_INTERVAL_S:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._syncing = True
        loop.run_in_executor(None, self._sync)

    def _sync(self) -> None:
        # On a duplicate of the descriptor, outside the lock: a slow disk never holds up `append`.
        with self._lock:
            fd = os.dup(self._fd) if self._fd is not None else None
        try:
            if fd is not None:
                os.fsync(fd)
        except OSError as exc:
            logger.warning("cannot fsync %s: %s", self.path.name, exc)
        finally:
            if fd is not None:
                os.close(fd)
            self._synced = time.monotonic()
            self._syncing = False

    def finish(self, kind: str, fields: dict[str, Any]) -> None:
        """Write the last record (`final`), sync it, let go of the file (blocking: run it off the loop)."""
        with self._lock:
            if self._fd is None:
                return
            fd, self._fd = self._fd, None  # later checkpoints are dropped
        try:
            _write_all(fd, encode(kind, fields))
            os.fsync(fd)
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def close(self) -> None:
        """Let go without a final record: the file is then reported as unfinished."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class Claim:
    """A spool file this process holds the lock of (the main process, delivering it)."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd = fd
        self.path = path

    @classmethod
    def take(cls, path: Path) -> Claim | None:
        """The file, locked by us; None while its session runs (or another process delivers it), or when
        it has moved on."""
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:  # another deliverer may have moved it between our open and our lock
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:
            cls(fd, path).release()
            return None
        return cls(fd, path)

    def read(self) -> list[dict[str, Any]]:
        """Every record; a torn or unreadable line (a process killed mid-write) is skipped."""
        size = os.fstat(self.fd).st_size
        data = os.pread(self.fd, size, 0)
        records = []
        for raw in data.split(b"\n"):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                logger.debug("skipping a torn record in %s", self.path.name)
                continue
            if isinstance(record, dict) and isinstance(record.get("t"), str):
                records.append(record)
        return records

    def append(self, kind: str, fields: dict[str, Any]) -> None:
        """Add a record, after a newline if the last one was torn."""
        size = os.fstat(self.fd).st_size
        prefix = b"" if size == 0 or os.pread(self.fd, 1, size - 1) == b"\n" else b"\n"
        _write_all(self.fd, prefix + encode(kind, fields))

    def move_to(self, folder: Path) -> None:
        """Move the file to `folder` (done, dead, or back to the outbox), synced."""
        os.fsync(self.fd)
        target = folder / self.path.name
        os.rename(self.path, target)
        self.path = target

    def release(self) -> None:
        # LOCK_UN first: it releases the lock even if a forked child shares the descriptor.
        with contextlib.suppress(OSError):
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def stale_tmp_files(spool: SpoolDir, older_than_s: float) -> Iterator[Path]:
    """Temporary files of sessions that died while creating their file (unlocked and old)."""
    try:
        names = [n for n in os.listdir(spool.outbox) if n.startswith(TMP_PREFIX)]
    except FileNotFoundError:
        return
    for name in names:
        path = spool.outbox / name
        with contextlib.suppress(OSError):
            if time.time() - path.stat().st_mtime > older_than_s:
                claim = Claim.take(path)
                if claim is not None:
                    claim.release()
                    yield path
