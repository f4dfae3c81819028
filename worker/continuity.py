"""Conversation continuity across agents: the tail of the transcript lives in the room's metadata.

Self-hosted LiveKit never re-dispatches a job whose worker died; the page asks the web backend for a
new dispatch. The new agent then finds the conversation so far in the room metadata, which outlives
any participant, and carries on from it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from livekit import api

from worker.report import SessionRecord

logger = logging.getLogger("rolecall.continuity")

METADATA_KEY = "rolecall"
TAIL_LINES = 16
TAIL_CHARS = 3000
SAVE_INTERVAL_S = 2.0


def summary_from_metadata(metadata: str) -> str:
    """The transcript tail a previous agent left in the room metadata, as text ("" if none)."""
    try:
        data = json.loads(metadata) if metadata else {}
        lines = data.get(METADATA_KEY, {}).get("transcript_tail", [])
    except (ValueError, AttributeError):
        return ""
    out = [
        f"{line['speaker']}: {line['text']}" for line in lines if isinstance(line, dict) and "text" in line
    ]
    return "\n".join(out)[-TAIL_CHARS:]


def tail_metadata(record: SessionRecord, existing: str) -> str:
    """Room metadata with our transcript tail merged in (other keys are kept)."""
    try:
        data: dict[str, Any] = json.loads(existing) if existing else {}
        if not isinstance(data, dict):
            data = {}
    except ValueError:
        data = {}
    tail = [{"speaker": line.speaker, "text": line.text[:400]} for line in record.transcript[-TAIL_LINES:]]
    data[METADATA_KEY] = {"transcript_tail": tail, "role": record.role}
    return json.dumps(data, separators=(",", ":"))


class TranscriptSaver:
    """Writes the transcript tail to the room metadata, at most every SAVE_INTERVAL_S seconds."""

    def __init__(self, lkapi: api.LiveKitAPI, room: str, record: SessionRecord, current: str) -> None:
        self._api = lkapi
        self._room = room
        self._record = record
        self._current = current
        self._saved_lines = len(record.transcript)
        self._task: asyncio.Task[None] | None = None

    def changed(self) -> None:
        """Call when the transcript grew; schedules one save."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._save_soon())

    async def _save_soon(self) -> None:
        await asyncio.sleep(SAVE_INTERVAL_S)
        if len(self._record.transcript) == self._saved_lines:
            return
        self._saved_lines = len(self._record.transcript)
        self._current = tail_metadata(self._record, self._current)
        try:
            await self._api.room.update_room_metadata(
                api.UpdateRoomMetadataRequest(room=self._room, metadata=self._current)
            )
        except Exception as exc:  # continuity is best effort; the session goes on
            logger.warning("could not save the transcript tail to the room: %s", exc)

    async def aclose(self) -> None:
        """Stop a pending save (the session is over)."""
        if self._task is not None:
            self._task.cancel()
