"""The live events: their types, their envelope, and the filter that picks which ones a URL receives.

Every event is one JSON envelope, the same bytes on every attempt, signed like the report
(`worker.outbox.envelope`: `webhook-id`, `webhook-timestamp`, `webhook-signature`):

    {"type": "transcript.line", "version": 1, "id": "evt_…", "created_at": "2026-12-01T10:00:00.000Z",
     "session_id": "<room>:<job id>", "room": "…", "seq": 3, "data": {…}}

`seq` counts one session's events from 1, in the order they happened (and are delivered); `id` is the
receiver's idempotency key. `session.ended` carries the session report as its `data`.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

EventType = Literal[
    "session.started",
    "participant.left",
    "participant.returned",
    "transcript.line",
    "tool.started",
    "tool.completed",
    "tool.failed",
    "role.changed",
    "control.applied",
    "control.failed",
    "session.ended",
]
"""What happened: see docs/how-to/control.md for each type's `data`."""
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
EVENT_VERSION = 1


class LiveEvent(BaseModel):
    """One live event of one session."""

    type: EventType
    version: Literal[1] = 1
    id: str = Field(description="the event's id, also sent as webhook-id: stable across retries")
    created_at: str = Field(description="when it happened, RFC 3339 UTC")
    session_id: str
    room: str
    seq: int = Field(ge=1, description="the event's place in its session, from 1, without gaps")
    data: dict[str, Any]

    def body(self) -> bytes:
        """The JSON bytes sent (the same on every attempt)."""
        return self.model_dump_json().encode()


def parse_filter(text: str) -> frozenset[str]:
    """`ROLECALL_EVENTS_FILTER` as the set of event types it picks; ValueError naming a bad entry.

    `*` (or empty) is every type; `tool.*` every type starting with `tool.`; else exact names."""
    picked: set[str] = set()
    for entry in (p.strip() for p in text.split(",")):
        if not entry:
            continue
        if entry == "*":
            picked.update(EVENT_TYPES)
        elif entry.endswith(".*"):
            matching = [t for t in EVENT_TYPES if t.startswith(entry[:-1])]
            if not matching:
                raise ValueError(f"{entry!r} matches no event type (types: {', '.join(EVENT_TYPES)})")
            picked.update(matching)
        elif entry in EVENT_TYPES:
            picked.add(entry)
        else:
            raise ValueError(f"unknown event type {entry!r} (types: {', '.join(EVENT_TYPES)})")
    return frozenset(picked) if picked else frozenset(EVENT_TYPES)
