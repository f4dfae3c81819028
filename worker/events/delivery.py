"""`EventOutbox`: the worker's main process delivers the live events of every session, in order.

Each session's event file (`worker.events.log`) is one stream: a task reads it as it grows and POSTs
its events one at a time, the next only once the one before is delivered or given up on, so the app
receives a session's events in their order (`seq`). Sessions stream side by side.

An event is retried after each delay of `ROLECALL_EVENTS_RETRY_S` (the last repeating) until
`ROLECALL_EVENTS_GIVE_UP_S` after its first attempt; then it is dropped with a WARNING and the stream
goes on (live events are about now: a receiver that was down gets the report, `session.ended`, which
holds the whole story). `410 Gone` drops the event at once. Every attempt sends the same id and body,
freshly signed with the report's secret (`ROLECALL_WEBHOOK_SECRET`).

How far a stream got is kept beside its file (`<id>.cursor`, flock-held by the process delivering it,
so two workers sharing a spool never send a session's events twice). A file nobody writes any more is
complete: with its `end` record it moves to `done/`; without one its job process died, and the stream
ends with a `session.ended` made from the session's report spool file (its partial report).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import aiohttp

from worker.events.log import event_spool
from worker.events.model import LiveEvent
from worker.outbox.delivery import Result, RetryPolicy, post_signed
from worker.outbox.envelope import Signer, rfc3339
from worker.outbox.records import SpoolRecords, UnreadableSpoolFile
from worker.outbox.spool import Claim, SpoolDir, new_event_id
from worker.pricing import PriceTableError, load_prices
from worker.settings import Settings

logger = logging.getLogger("rolecall.events")

SCAN_INTERVAL_S = 0.2
"""How often new event files are looked for, and a quiet stream looks for new events."""
CONCURRENT_POSTS = 8
CURSOR_SUFFIX = ".cursor"


class EventOutbox:
    """Delivers the live events of one spool to `ROLECALL_EVENTS_URL` (`run` while the worker runs)."""

    def __init__(self, settings: Settings, *, http: aiohttp.ClientSession | None = None) -> None:
        self.settings = settings
        self.url = settings.events_url
        self.spool = event_spool(settings.spool_dir, settings.agent_name)
        self.reports = SpoolDir.of(settings.spool_dir, settings.agent_name)
        self.signer = Signer(settings.webhook_secret, settings.webhook_secret_previous)
        self.policy = RetryPolicy(settings.events_retry_delays(), settings.events_give_up_s)
        self._streams: dict[str, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(CONCURRENT_POSTS)
        self._http = http
        self._own_http = http is None
        self.dropped = 0
        """Events given up on by this run (for tests and the log)."""

    async def run(self) -> None:
        """Stream every session's events until cancelled."""
        self.spool.create()
        while True:
            try:
                await self.scan()
            except Exception:  # one bad file must not stop the others
                logger.exception("looking at the event spool %s failed", self.spool.outbox)
            await asyncio.sleep(SCAN_INTERVAL_S)

    async def scan(self) -> None:
        """Start a stream for each event file that has none."""
        for path in await asyncio.to_thread(self.spool.files, self.spool.outbox):
            key = path.name
            if key in self._streams:
                continue
            task = asyncio.create_task(self._stream(path), name=f"rolecall.events.{key}")
            self._streams[key] = task
            task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        for key, running in list(self._streams.items()):
            if running is task:
                del self._streams[key]

    async def aclose(self) -> None:
        """Stop streaming (what is undelivered stays in the spool for the next run)."""
        for task in list(self._streams.values()):
            task.cancel()
        await asyncio.gather(*self._streams.values(), return_exceptions=True)
        if self._own_http and self._http is not None:
            await self._http.close()
            self._http = None

    # --- one session's stream ----------------------------------------------------------------------

    async def _stream(self, path: Path) -> None:
        cursor = await asyncio.to_thread(Cursor.take, path)
        if cursor is None:
            return  # another worker's main process streams it
        try:
            await self._follow(path, cursor)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("streaming the live events of %s failed", path.name)
            await asyncio.sleep(SCAN_INTERVAL_S * 25)  # then the next scan starts it again
        finally:
            cursor.release()

    async def _follow(self, path: Path, cursor: Cursor) -> None:
        finished = False
        while True:
            lines = await asyncio.to_thread(read_lines, path, cursor.offset)
            if not lines:
                claim = await asyncio.to_thread(Claim.take, path)
                if claim is None:  # its session is still running
                    await asyncio.sleep(SCAN_INTERVAL_S)
                    continue
                try:
                    if await asyncio.to_thread(read_lines, path, cursor.offset):
                        continue  # written just before its writer let go
                    if not finished:
                        await asyncio.to_thread(self._crashed, claim, cursor)
                        continue
                    await asyncio.to_thread(self._done, claim, cursor)
                finally:
                    claim.release()
                return
            for record, end in lines:
                if record.get("t") == "event":
                    await self._deliver(record)
                    cursor.seq = max(cursor.seq, int(record.get("seq", 0)))
                elif record.get("t") == "end":
                    finished = True
                cursor.advance(end)
                if record.get("t") == "crashed":
                    finished = True

    async def _deliver(self, record: dict[str, Any]) -> None:
        fields = {k: v for k, v in record.items() if k != "t"}
        try:
            event = LiveEvent.model_validate(fields)
        except ValueError:
            logger.warning("skipping an unreadable live event in the spool")
            return
        body = event.body()
        first = time.time()
        attempt = 0
        while True:
            attempt += 1
            async with self._slots:
                result = await self.post(event.id, body)
            if result.delivered:
                return
            now = time.time()
            delay = self.policy.delays_s[min(attempt - 1, len(self.policy.delays_s) - 1)]
            if result.gone or now + delay - first > self.policy.give_up_s:
                self.dropped += 1
                logger.warning(
                    "live event %s (%s #%d of %s) dropped after %d attempt(s): %s",
                    event.id,
                    event.type,
                    event.seq,
                    event.session_id,
                    attempt,
                    result.detail,
                    extra={"event_id": event.id, "session_id": event.session_id},
                )
                return
            await asyncio.sleep(delay)

    async def post(self, event_id: str, body: bytes) -> Result:
        """POST one signed event once."""
        if self._http is None:
            self._http = aiohttp.ClientSession()
        return await post_signed(
            self._http, self.url, self.signer, event_id, body, self.settings.webhook_timeout_s
        )

    # --- the end of a stream -----------------------------------------------------------------------

    def _crashed(self, claim: Claim, cursor: Cursor) -> None:
        """The session's process died before its `session.ended`: add one from its report spool."""
        records = claim.read()
        start = records[0] if records and records[0].get("t") == "start" else {}
        report = self._partial_report(claim.path.name)
        if report is None:
            claim.append("crashed", {"at": time.time()})
            logger.warning("session %s ended without its live events' end", start.get("session_id"))
            return
        event = LiveEvent(
            type="session.ended",
            id=new_event_id(),
            created_at=rfc3339(time.time()),
            session_id=str(start.get("session_id", "")),
            room=str(start.get("room", "")),
            seq=cursor.seq + 1,
            data=report,
        )
        claim.append("event", event.model_dump(mode="json"))
        claim.append("end", {"at": time.time(), "crashed": True})

    def _partial_report(self, name: str) -> dict[str, Any] | None:
        for folder in (self.reports.outbox, self.reports.done, self.reports.dead):
            try:
                raw = (folder / name).read_bytes()
            except OSError:
                continue
            records = [json.loads(line) for line in raw.splitlines() if _json_line(line)]
            try:
                parsed = SpoolRecords.parse([r for r in records if isinstance(r, dict) and "t" in r])
            except UnreadableSpoolFile:
                return None
            try:
                prices = load_prices(self.settings.prices_file)
            except PriceTableError:
                prices = load_prices(None)
            return parsed.report(prices).model_dump(mode="json", fallback=repr)
        return None

    def _done(self, claim: Claim, cursor: Cursor) -> None:
        claim.move_to(self.spool.done)
        cursor.move_to(self.spool.done)


class Cursor:
    """How far one stream got (byte offset, last seq), kept in `<id>.cursor` and flock-held."""

    def __init__(self, fd: int, path: Path, offset: int, seq: int) -> None:
        self.fd, self.path, self.offset, self.seq = fd, path, offset, seq

    @classmethod
    def take(cls, events: Path) -> Cursor | None:
        path = events.with_suffix(CURSOR_SUFFIX)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            state = json.loads(os.pread(fd, 4096, 0) or b"{}")
        except ValueError:
            state = {}
        return cls(fd, path, int(state.get("offset", 0)), int(state.get("seq", 0)))

    def advance(self, offset: int) -> None:
        """Past the record ending at `offset` (written at once: a restart resumes after it)."""
        self.offset = offset
        data = json.dumps({"offset": offset, "seq": self.seq}).encode().ljust(64)
        os.pwrite(self.fd, data, 0)

    def move_to(self, folder: Path) -> None:
        target = folder / self.path.name
        os.rename(self.path, target)
        self.path = target

    def release(self) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def read_lines(path: Path, offset: int) -> list[tuple[dict[str, Any], int]]:
    """The complete records after `offset`, each with the offset just past it (a torn line is skipped;
    a last line without its newline is still being written, and waits)."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return []
    out: list[tuple[dict[str, Any], int]] = []
    at = offset
    for line in data.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break
        at += len(line)
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            out.append((record, at))
    return out


def _json_line(line: bytes) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True
