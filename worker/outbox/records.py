"""What a spool file says: the session's story (its checkpoints, maybe its final report) and its deliveries.

Records, one per line, in the order written (`t` is the kind):

    start      the session's fixed facts (event id, session id, room, participant, role and its version,
               model, start time, whether the role declares an analysis), written by the job process
    line       a transcript line          tool   a tool call          role   a handoff or live reload
    usage      the session's usage so far ended  why and when it ended, before its analysis ran
    final      the whole report            (the job process's last record)
    crashed    the main process found the file unfinished and unheld: its process died
    attempt    one delivery attempt: when, and the HTTP status or the error
    delivered, dead, kept, resend          where the file went, and why

A file with a `final` record is reported as its job process wrote it. One without is reported from its
checkpoints: every line and tool call up to the death of its process, `complete: false`, and
`end_reason: crashed` (or the reason already decided, when the process died during the analysis).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from worker.errors import RoleCallError
from worker.outbox.envelope import SessionEnded, rfc3339
from worker.pricing import AnyPrice, Usage, estimate_cost
from worker.report import (
    AnalysisResult,
    RoleVersion,
    SessionReport,
    ToolCallRecord,
    TranscriptLine,
    UiEventRecord,
)

logger = logging.getLogger("rolecall.outbox")

OUTCOMES = ("delivered", "dead", "kept")
ANALYSIS_LOST = "the session's process ended before its analysis finished"


class UnreadableSpoolFile(RoleCallError):
    """A spool file without a usable `start` record."""


@dataclass
class SpoolRecords:
    """One spool file, parsed."""

    start: dict[str, Any]
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    ended: dict[str, Any] | None = None
    final: dict[str, Any] | None = None
    crashed_at: float | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    """Attempts since the file last entered the outbox (a `resend` starts the count again)."""
    outcome: str | None = None
    last_at: float = 0.0
    """The newest `at` of the session's own records (the last sign of life of its process)."""

    @classmethod
    def parse(cls, records: list[dict[str, Any]]) -> SpoolRecords:
        if not records or records[0].get("t") != "start" or not isinstance(records[0].get("id"), str):
            raise UnreadableSpoolFile("no start record")
        out = cls(start=records[0], last_at=_number(records[0].get("started_at")))
        for record in records[1:]:
            kind = record["t"]
            if kind in ("line", "tool", "ui_event", "role", "usage"):
                out.checkpoints.append(record)
                out.last_at = max(out.last_at, _number(record.get("at")))
            elif kind == "ended":
                out.ended = record
            elif kind == "final":
                out.final = record
            elif kind == "crashed":
                out.crashed_at = out.crashed_at or _number(record.get("at"))
            elif kind == "attempt":
                out.attempts.append(record)
            elif kind == "resend":
                out.attempts, out.outcome = [], None
            elif kind in OUTCOMES:
                out.outcome = kind
        return out

    @property
    def event_id(self) -> str:
        return str(self.start["id"])

    @property
    def finished(self) -> bool:
        """Whether the job process wrote its final report."""
        return self.final is not None

    def report(self, prices: Mapping[str, AnyPrice]) -> SessionReport:
        """The report to send: the final one, or one built from the checkpoints."""
        if self.final is not None:
            try:
                return SessionReport.model_validate(self.final.get("report"))
            except ValidationError as exc:  # a torn final line never parses; this is a damaged one
                logger.warning(
                    "the final report of %s is unusable (%s); using its checkpoints", self.event_id, exc
                )
        return self.partial(prices)

    def partial(self, prices: Mapping[str, AnyPrice]) -> SessionReport:
        """The report from the checkpoints alone (`complete: false`)."""
        s = self.start
        transcript: list[TranscriptLine] = []
        tools: list[ToolCallRecord] = []
        ui_events: list[UiEventRecord] = []
        roles = [str(s.get("role", ""))]
        versions = [
            RoleVersion(
                role=roles[0],
                version=str(s.get("role_version", "")),
                at=_number(s.get("started_at")),
                reason="start",
            )
        ]
        usage = Usage()
        for record in self.checkpoints:
            fields = {k: v for k, v in record.items() if k != "t"}
            try:
                if record["t"] == "line":
                    transcript.append(TranscriptLine.model_validate(fields))
                elif record["t"] == "tool":
                    tools.append(ToolCallRecord.model_validate(fields))
                elif record["t"] == "ui_event":
                    ui_events.append(UiEventRecord.model_validate(fields))
                elif record["t"] == "role":
                    entry = RoleVersion.model_validate(fields)
                    versions.append(entry)
                    if entry.reason == "handoff":
                        roles.append(entry.role)
                else:
                    usage = Usage.model_validate(fields)
            except ValidationError:
                logger.debug("skipping an unreadable %s record in %s", record["t"], self.event_id)
        ended = self.ended or {}
        model = str(s.get("model", ""))
        backend = s.get("backend_model") if isinstance(s.get("backend_model"), str) else None
        return SessionReport(
            session_id=str(s.get("session_id", "")),
            room=str(s.get("room", "")),
            participant=str(s.get("participant", "")),
            roles=roles,
            model=model,
            backend_model=backend,
            started_at=_number(s.get("started_at")),
            ended_at=_number(ended.get("ended_at")) or self.last_at or self.crashed_at or 0.0,
            end_reason=str(ended.get("end_reason") or "crashed"),
            transcript=transcript,
            tool_calls=tools,
            ui_events=ui_events,
            usage=usage,
            cost_usd=estimate_cost(model, usage, prices, backend=backend),
            complete=False,
            role_versions=versions,
            analysis=AnalysisResult(status="failed", error=ANALYSIS_LOST)
            if s.get("analysis") or ended.get("analysis")
            else None,
        )

    def event(self, prices: Mapping[str, AnyPrice]) -> SessionEnded:
        """The event, the same on every attempt (its time: the session's end, or when its crash was found)."""
        report = self.report(prices)
        created = report.ended_at if self.final is not None else (self.crashed_at or report.ended_at)
        return SessionEnded(id=self.event_id, created_at=rfc3339(created), data=report)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
