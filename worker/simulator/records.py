"""What the simulator keeps of the events on the wire: for tests, benchmarks, or nothing.

In-process (tests, benchmarks) every event is kept whole, audio included, because tests decode
it. A long-lived server (the CLI: `make demo`, the compose profile) keeps nothing: at about
5.5 MB per minute of audio the records would grow without end. In between, `record_limit`
keeps the newest events only, with each audio payload replaced by its size in bytes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from worker.simulator.events import JsonDict

MAX_VIOLATIONS = 100
"""Violations kept (each is also logged); one is already a bug to fix."""


@dataclass(slots=True)
class RecordedEvent:
    """One event on the wire: its connection, when (time.monotonic()), the event, and any refusal."""

    connection: str
    at: float
    event: JsonDict
    error: str | None = None

    @property
    def type(self) -> str | None:
        value = self.event.get("type")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Violation:
    """A server event that did not validate against the openai types."""

    connection: str
    event: JsonDict
    problems: list[str]


def _b64_size(data: str) -> int:
    """Bytes a base64 string decodes to (approximately, for malformed input)."""
    return len(data) * 3 // 4 - (len(data) - len(data.rstrip("=")))


AUDIO_IN = ("input_audio_buffer.append", "session.input_audio.append")
"""Client events carrying `audio` (Realtime, GPT-Live)."""
AUDIO_OUT = ("response.output_audio.delta", "session.output_audio.delta")
"""Server events carrying audio in `delta` (Realtime, GPT-Live)."""


def without_audio(event: JsonDict) -> JsonDict:
    """The event with each base64 audio payload replaced by `bytes: n` (a copy when it has any)."""
    kind = event.get("type")
    if kind in AUDIO_IN and isinstance(event.get("audio"), str):
        return {k: v for k, v in event.items() if k != "audio"} | {"bytes": _b64_size(event["audio"])}
    if kind in AUDIO_OUT and isinstance(event.get("delta"), str):
        return {k: v for k, v in event.items() if k != "delta"} | {"bytes": _b64_size(event["delta"])}
    item = event.get("item")
    if kind == "conversation.item.create" and isinstance(item, dict):
        content = item.get("content")
        if isinstance(content, list) and any(isinstance(c, dict) and "audio" in c for c in content):
            stripped = copy.copy(event)
            stripped["item"] = item | {
                "content": [
                    {k: v for k, v in c.items() if k != "audio"}
                    | {"bytes": _b64_size(c["audio"]) if isinstance(c["audio"], str) else 0}
                    if isinstance(c, dict) and "audio" in c
                    else c
                    for c in content
                ]
            }
            return stripped
    return event


class Recorder:
    """Keeps received and sent events as configured; `received`, `sent`, `violations` are lists."""

    def __init__(self, *, enabled: bool, limit: int | None) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"record_limit must be at least 1 (or None for no limit), got {limit}")
        self.enabled = enabled
        self.limit = limit
        self.received: list[RecordedEvent] = []
        self.sent: list[RecordedEvent] = []
        self.violations: list[Violation] = []

    def receive(
        self, connection: str, at: float, event: JsonDict, error: str | None = None
    ) -> RecordedEvent | None:
        """Record a client event (None when recording is off); set `.error` on it if refused later."""
        return self._keep(self.received, connection, at, event, error)

    def send(self, connection: str, at: float, event: JsonDict) -> None:
        """Record a server event."""
        self._keep(self.sent, connection, at, event, None)

    def violation(self, violation: Violation) -> None:
        """Record a server event that failed validation (the first `MAX_VIOLATIONS`)."""
        if len(self.violations) < MAX_VIOLATIONS:
            self.violations.append(violation)

    def _keep(
        self, records: list[RecordedEvent], connection: str, at: float, event: JsonDict, error: str | None
    ) -> RecordedEvent | None:
        if not self.enabled:
            return None
        if self.limit is not None:
            event = without_audio(event)
        record = RecordedEvent(connection, at, event, error)
        records.append(record)
        # Trim in batches (amortized O(1) per event): between `limit` and twice that are held.
        if self.limit is not None and len(records) >= 2 * self.limit:
            del records[: len(records) - self.limit]
        return record
