"""Helpers for the outbox tests: a spool of one's own, sessions written into it, an Outbox running on it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from worker.outbox import Outbox, SpoolDir, SpoolWriter, new_event_id
from worker.outbox.records import SpoolRecords
from worker.outbox.spool import Claim
from worker.report import SessionRecord
from worker.settings import Settings

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # 24 bytes, base64
RAW_SECRET = "a-raw-webhook-secret-of-text"
AGENT = "rolecall-outbox-test"


def settings_for(spool_dir: Path, url: str = "", **overrides: Any) -> Settings:
    """Worker settings for an Outbox on `spool_dir`, delivering to `url` with a short schedule."""
    values: dict[str, Any] = {
        "agent_name": AGENT,
        "spool_dir": spool_dir,
        "webhook_url": url,
        "webhook_secret": RAW_SECRET if url else "",
        "webhook_retry_s": "0.2,0.4",
        "webhook_timeout_s": 1.0,
    }
    return Settings(**{**values, **overrides})


def spool_of(settings: Settings) -> SpoolDir:
    spool = SpoolDir.of(settings.spool_dir, settings.agent_name)
    spool.create()
    return spool


def write_session(
    spool: SpoolDir, *, lines: int = 3, finish: bool = True, room: str = "room-1"
) -> tuple[str, SpoolWriter]:
    """A session written into the spool as the job process writes one; its event id and writer."""
    event_id = new_event_id()
    record = SessionRecord(
        session_id=f"{room}:job", room=room, participant="user", role="bench", model="gpt-realtime"
    )
    writer = SpoolWriter.open(
        spool,
        event_id,
        {
            "agent": AGENT,
            "session_id": record.session_id,
            "room": room,
            "participant": "user",
            "role": "bench",
            "role_version": "0123456789ab",
            "model": "gpt-realtime",
            "started_at": record.started_at,
            "analysis": False,
        },
    )
    record.journal = writer.append
    for i in range(lines):
        record.add_line("user" if i % 2 == 0 else "agent", f"line {i}")
    if finish:
        report = record.finish("end_session", {})
        writer.finish("final", {"report": report.model_dump(mode="json")})
    return event_id, writer


def records_of(path: Path) -> SpoolRecords:
    claim = Claim.take(path)
    assert claim is not None, f"{path} is held by someone"
    try:
        return SpoolRecords.parse(claim.read())
    finally:
        claim.release()


def where(spool: SpoolDir, event_id: str) -> str | None:
    """`outbox`, `done` or `dead`: where the event's file is now."""
    for name, folder in (("outbox", spool.outbox), ("done", spool.done), ("dead", spool.dead)):
        if (folder / f"{event_id}.jsonl").exists():
            return name
    return None


@contextlib.asynccontextmanager
async def running(outbox: Outbox) -> AsyncIterator[Outbox]:
    task = asyncio.create_task(outbox.run())
    try:
        yield outbox
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await outbox.aclose()


async def until(check: Callable[[], Any], *, timeout: float = 15.0, what: str = "the condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
