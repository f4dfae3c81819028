"""`AppEvents`: one session's live events, written by its job process into the event spool.

The job process never waits for the app backend: `emit` is one `write()` into the session's event
file (`worker.outbox.spool.SpoolWriter`, the report spool's own writer: O_APPEND, no fsync on the event
loop, a size cap); the worker's main process delivers from that file (`worker.events.delivery`).
Without `ROLECALL_EVENTS_URL` a session gets `AppEvents.off()` and every method does nothing.

The events come from the places that already see them: the report's journal (transcript lines,
handoffs), the page's tool activity (started, done, failed, with the arguments only when the role's
`show_arguments` lets the page see them), the room (the user leaving and coming back), the control
receiver (`worker.session.control`) and the report itself.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from worker.events.model import EventType, LiveEvent, parse_filter
from worker.outbox.envelope import rfc3339
from worker.outbox.spool import SpoolDir, SpoolWriter, new_event_id
from worker.protocol import ToolActivityEvent
from worker.report import Journal, SessionReport
from worker.settings import Settings

logger = logging.getLogger("rolecall.events")

EVENTS_FOLDER = "events"
TOOL_EVENTS = {"started": "tool.started", "done": "tool.completed", "failed": "tool.failed"}


def event_spool(spool_dir: Path, agent_name: str) -> SpoolDir:
    """The live events' spool folders, beside the reports' (`<spool>/<agent>/events/...`)."""
    return SpoolDir(SpoolDir.of(spool_dir, agent_name).root / EVENTS_FOLDER)


class AppEvents:
    """The live events of one session (`off()`: none)."""

    def __init__(
        self,
        writer: SpoolWriter | None,
        *,
        session_id: str = "",
        room: str = "",
        types: frozenset[str] = frozenset(),
    ) -> None:
        self._writer = writer
        self.session_id = session_id
        self.room = room
        self.types = types
        self.seq = 0
        self._role = ""
        self._arguments: dict[str, dict[str, Any] | None] = {}

    @classmethod
    def off(cls) -> AppEvents:
        """No live events (yet: `open` starts them)."""
        return cls(None)

    def open(self, settings: Settings, *, session_id: str, room: str, report_id: str) -> None:
        """Start the session's event file, when `ROLECALL_EVENTS_URL` is set (a file that cannot be
        created is logged; the conversation goes on without live events)."""
        if not settings.events_url or self._writer is not None:
            return
        spool = event_spool(settings.spool_dir, settings.agent_name)
        try:
            spool.create()
            writer = SpoolWriter.open(spool, report_id, {"session_id": session_id, "room": room})
        except OSError as exc:
            logger.error("cannot start the session's live event file in %s: %s", spool.outbox, exc)
            return
        self._writer, self.session_id, self.room = writer, session_id, room
        self.types = parse_filter(settings.events_filter)

    @property
    def on(self) -> bool:
        return self._writer is not None

    def emit(self, type_: EventType, data: dict[str, Any]) -> None:
        """Write one event (when its type passes the filter); never raises, never waits."""
        if self._writer is None or type_ not in self.types:
            return
        self.seq += 1
        event = LiveEvent(
            type=type_,
            id=new_event_id(),
            created_at=rfc3339(time.time()),
            session_id=self.session_id,
            room=self.room,
            seq=self.seq,
            data=data,
        )
        try:
            fields = event.model_dump(mode="json", fallback=repr)
        except Exception as exc:  # an event must never break the conversation it describes
            logger.warning("cannot write a %s event: %s", type_, exc)
            return
        self._writer.append("event", fields)

    # --- where the events come from --------------------------------------------------------------

    def started(self, *, role: str, role_version: str, participant: str, model: str) -> None:
        """`session.started`: the agent is in the room, with its first role."""
        self._role = role
        self.emit(
            "session.started",
            {"role": role, "role_version": role_version, "participant": participant, "model": model},
        )

    def tee(self, journal: Journal | None) -> Journal:
        """The report's journal, also turning its lines and handoffs into events."""

        def both(kind: str, fields: dict[str, Any]) -> None:
            if journal is not None:
                journal(kind, fields)
            self.journal(kind, fields)

        return both

    def journal(self, kind: str, fields: dict[str, Any]) -> None:
        """One piece of the report: a final transcript line, or a role change."""
        if kind == "line":
            self.emit("transcript.line", dict(fields))
        elif kind == "role" and fields.get("role") != self._role:
            previous, self._role = self._role, str(fields.get("role", ""))
            self.emit("role.changed", {"role": self._role, "previous": previous, **_without(fields, "role")})

    def page_event(self, event: object) -> None:
        """What the page is told about a tool call (progress updates are not events)."""
        if not isinstance(event, ToolActivityEvent) or event.status not in TOOL_EVENTS:
            return
        if event.status == "started":
            self._arguments[event.call_id] = event.arguments
            arguments = event.arguments
        else:
            arguments = self._arguments.pop(event.call_id, event.arguments)
        data: dict[str, Any] = {
            "call_id": event.call_id,
            "name": event.name,
            "kind": event.kind,
            "mode": event.mode,
            "arguments": arguments,  # null unless the role's show_arguments shares them
        }
        if event.status != "started":
            data["duration_ms"] = event.duration_ms
            data["outcome"] = "ok" if event.status == "done" else "failed"
        self.emit(TOOL_EVENTS[event.status], data)  # type: ignore[arg-type]

    def participant(self, identity: str, *, left: bool) -> None:
        """The session's user left the room, or came back."""
        self.emit("participant.left" if left else "participant.returned", {"identity": identity})

    def control(self, command_id: str, command: str, *, applied: bool, detail: str) -> None:
        """A command of the control API, applied or not (`detail`: what was done, or why not)."""
        self.emit(
            "control.applied" if applied else "control.failed",
            {"command_id": command_id, "command": command, "detail": detail},
        )

    def ended(self, report: SessionReport) -> None:
        """`session.ended` with the report; then the file is complete (blocking: run it off the loop)."""
        self.emit("session.ended", report.model_dump(mode="json", fallback=repr))
        self.close(finished=True)

    def close(self, *, finished: bool = False) -> None:
        """Let go of the file (`finished`: with its end record, so no crash is reported for it)."""
        writer, self._writer = self._writer, None
        if writer is None:
            return
        try:
            if finished:
                writer.finish("end", {"at": time.time()})
            else:
                writer.close()
        except OSError as exc:
            logger.warning("cannot finish the live event file %s: %s", writer.path.name, exc)


def _without(fields: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k != key}
