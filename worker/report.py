"""The session-end report: what was said, which tools ran, what it cost, which role versions ran.

A `SessionRecord` is filled while the session runs (transcript lines as the conversation grows,
tool calls as they finish, token usage per response, the role and its version at each change), and
hands each piece to its `journal` as it comes (the session's spool file, `worker.outbox.spool`), so a
session whose process dies is still reported. At the end it becomes one `SessionReport`: one structured
log record, and the `data` of the `session.ended` webhook event the worker's main process delivers
(`worker.outbox`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

from worker.pricing import AnyPrice, Usage, estimate_cost

logger = logging.getLogger("rolecall.report")

Journal = Callable[[str, dict[str, Any]], None]
"""Where a record's pieces go as they come: `(kind, fields)` (`worker.outbox.spool.SpoolWriter.append`)."""


class TranscriptLine(BaseModel):
    """One finished utterance of the user or the agent."""

    speaker: Literal["user", "agent"]
    text: str
    role: str
    at: float
    interrupted: bool = False


class ToolCallRecord(BaseModel):
    """One tool call: what the model asked for and what came of it."""

    name: str
    kind: str
    arguments: Any
    outcome: Literal["ok", "error"]
    detail: str = ""
    latency_ms: float
    role: str
    at: float


class UiEventRecord(BaseModel):
    """One UI event the page sent (`worker.session.ui_events`): taken into the conversation, or refused."""

    name: str
    payload: Any
    """The event's data as the page sent it (None when it was refused before being read)."""
    outcome: Literal["accepted", "refused"]
    detail: str = ""
    """accepted: what the agent did (`respond`); refused: why."""
    role: str
    at: float


class RoleVersion(BaseModel):
    """A role the session played, from when, and which version of its files."""

    role: str
    version: str
    """`worker.roles.version`: a content hash of the role file, its prompt files and fragments."""
    at: float
    reason: Literal["start", "handoff", "reload"]


class CriterionResult(BaseModel):
    """One success criterion of the role's analysis, judged."""

    criterion: str
    met: bool
    reason: str = ""


class AnalysisResult(BaseModel):
    """The role's post-call analysis (`analysis:`), or why there is none."""

    status: Literal["ok", "failed", "skipped"]
    """`failed`: no answer in time, or one that broke the schema (`error` says which); `skipped`:
    nothing was said to analyse."""
    summary: str | None = None
    data: Any = None
    """Checked against the role's `analysis.data.schema`."""
    success: list[CriterionResult] | None = None
    error: str = ""
    answer: str = ""
    """The model's answer as it came, when it failed the checks (clipped)."""
    usage: Usage | None = None
    """Tokens of the analysis request (not in the session's `usage`)."""


class SessionReport(BaseModel):
    """Everything that happened in one session: the `data` of a `session.ended` event."""

    session_id: str
    room: str
    participant: str
    roles: list[str]
    model: str
    backend_model: str | None = Field(
        None, description="GPT-Live sessions: the backend model that ran the roles' instructions and tools"
    )
    started_at: float
    ended_at: float
    end_reason: str
    transcript: list[TranscriptLine]
    tool_calls: list[ToolCallRecord]
    ui_events: list[UiEventRecord] = Field(default_factory=list)
    """UI events from the page, accepted and refused (`events:` in the role)."""
    usage: Usage
    cost_usd: float | None = Field(
        description="estimate from the price table (GPT-Live: by duration, plus the backend's tokens); "
        "None when a model used has no price"
    )
    complete: bool = Field(
        True,
        description="false for a partial report, built from the session's checkpoints after its process "
        "ended without finishing (end_reason crashed), or before its analysis",
    )
    role_versions: list[RoleVersion] = Field(
        default_factory=list, description="the role and its version at the start and at each change"
    )
    analysis: AnalysisResult | None = Field(None, description="the role's post-call analysis, if declared")


class SessionRecord:
    """Collects the report's pieces while a session runs."""

    def __init__(
        self,
        *,
        session_id: str,
        room: str,
        participant: str,
        role: str,
        model: str,
        backend_model: str | None = None,
        role_version: str = "",
        journal: Journal | None = None,
    ) -> None:
        self.session_id = session_id
        self.room = room
        self.participant = participant
        self.roles = [role]
        self.model = model
        self.backend_model = backend_model
        """GPT-Live: the backend model (its tokens are priced at its entry); None on the Realtime API."""
        self.started_at = time.time()
        self.transcript: list[TranscriptLine] = []
        self.tool_calls: list[ToolCallRecord] = []
        self.ui_events: list[UiEventRecord] = []
        self.usage = Usage()
        self.role_versions = [
            RoleVersion(role=role, version=role_version, at=self.started_at, reason="start")
        ]
        self.journal = journal
        """Gets every piece as it is added (set once the session's spool file is open)."""

    @property
    def role(self) -> str:
        return self.roles[-1]

    def _note(self, kind: str, piece: BaseModel) -> None:
        if self.journal is None:
            return
        try:
            fields = piece.model_dump(mode="json", fallback=repr)
        except Exception as exc:  # a checkpoint must never break the conversation it records
            logger.warning("cannot checkpoint a %s record: %s", kind, exc)
            return
        self.journal(kind, fields)

    def role_changed(self, role: str, version: str = "") -> None:
        """A handoff: the session plays `role` now."""
        self.roles.append(role)
        self._versioned(role, version, "handoff")

    def role_reloaded(self, role: str, version: str) -> None:
        """Live reload: the role's files changed under the running session."""
        self._versioned(role, version, "reload")

    def _versioned(self, role: str, version: str, reason: Literal["handoff", "reload"]) -> None:
        entry = RoleVersion(role=role, version=version, at=time.time(), reason=reason)
        self.role_versions.append(entry)
        self._note("role", entry)

    def add_line(self, speaker: Literal["user", "agent"], text: str, *, interrupted: bool = False) -> None:
        if text.strip():
            line = TranscriptLine(
                speaker=speaker, text=text, role=self.role, at=time.time(), interrupted=interrupted
            )
            self.transcript.append(line)
            self._note("line", line)

    def set_usage(self, usage: Usage) -> None:
        """The session's token usage so far (livekit-agents reports running totals)."""
        self.usage = usage
        self._note("usage", usage)

    def add_tool_call(
        self, *, name: str, kind: str, arguments: Any, ok: bool, detail: str, started: float
    ) -> ToolCallRecord:
        record = ToolCallRecord(
            name=name,
            kind=kind,
            arguments=arguments,
            outcome="ok" if ok else "error",
            detail=detail[:500],
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            role=self.role,
            at=time.time(),
        )
        self.tool_calls.append(record)
        self._note("tool", record)
        return record

    def add_ui_event(self, *, name: str, payload: Any, accepted: bool, detail: str) -> UiEventRecord:
        record = UiEventRecord(
            name=name[:64],
            payload=payload,
            outcome="accepted" if accepted else "refused",
            detail=detail[:300],
            role=self.role,
            at=time.time(),
        )
        self.ui_events.append(record)
        self._note("ui_event", record)
        return record

    def cost(self, prices: Mapping[str, AnyPrice]) -> float | None:
        """The estimated cost so far (None when a model used has no price)."""
        return estimate_cost(self.model, self.usage, prices, backend=self.backend_model)

    def finish(self, end_reason: str, prices: Mapping[str, AnyPrice]) -> SessionReport:
        return SessionReport(
            session_id=self.session_id,
            room=self.room,
            participant=self.participant,
            roles=self.roles,
            model=self.model,
            backend_model=self.backend_model,
            started_at=self.started_at,
            ended_at=time.time(),
            end_reason=end_reason,
            transcript=list(self.transcript),
            tool_calls=list(self.tool_calls),
            ui_events=list(self.ui_events),
            usage=self.usage.model_copy(),
            cost_usd=self.cost(prices),
            role_versions=list(self.role_versions),
        )


def log_report(report: SessionReport) -> None:
    """Write the report as one structured log record."""
    logger.info(
        "session report: %d transcript lines, %d tool calls, %d tokens, cost %s",
        len(report.transcript),
        len(report.tool_calls),
        report.usage.total,
        "n/a" if report.cost_usd is None else f"${report.cost_usd:.4f}",
        extra={"rolecall_report": report.model_dump(mode="json")},
    )
