"""The session-end report: what was said, which tools ran, what it cost.

A `SessionRecord` is filled while the session runs (transcript lines as the conversation grows,
tool calls as they finish, token usage per response). At the end it becomes one structured log
record and, when a webhook is configured, one signed POST to the app backend.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any, Literal

import aiohttp
from pydantic import BaseModel, Field

from worker.pricing import AnyPrice, Usage, estimate_cost
from worker.signing import SIGNATURE_HEADER, sign

logger = logging.getLogger("rolecall.report")


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


class SessionReport(BaseModel):
    """Everything that happened in one session; the webhook body."""

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

    @property
    def role(self) -> str:
        return self.roles[-1]

    def role_changed(self, role: str) -> None:
        self.roles.append(role)

    def add_line(self, speaker: Literal["user", "agent"], text: str, *, interrupted: bool = False) -> None:
        if text.strip():
            self.transcript.append(
                TranscriptLine(
                    speaker=speaker, text=text, role=self.role, at=time.time(), interrupted=interrupted
                )
            )

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


async def post_report(
    http: aiohttp.ClientSession, url: str, secret: str, report: SessionReport, *, timeout_s: float = 10.0
) -> bool:
    """POST the signed report to the app backend's webhook; log and return False on failure."""
    body = json.dumps(report.model_dump(mode="json"), separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)}
    try:
        async with http.post(
            url,
            data=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
            allow_redirects=False,
        ) as resp:
            if 200 <= resp.status < 300:
                return True
            logger.warning(
                "session webhook answered HTTP %d", resp.status, extra={"session_id": report.session_id}
            )
    except (TimeoutError, aiohttp.ClientError) as exc:
        logger.warning(
            "session webhook failed: %s", type(exc).__name__, extra={"session_id": report.session_id}
        )
    return False
