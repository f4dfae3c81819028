"""What one session tells operators: its trace (`worker.tracing`) and its metrics (`worker.metrics`).

The session's span (`rolecall.session`) is a child of the web backend's session start when the dispatch
carried one, and is the current context while the session is set up, so livekit-agents' own spans (the
agent session, each turn, each inference) and RoleCall's (role resolution, model connection, greeting,
each tool call) nest under it.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, StatusCode

from worker.metrics import GREETING_SECONDS, MODEL_ERRORS, SESSIONS_ENDED, SESSIONS_REFUSED, SESSIONS_STARTED
from worker.settings import Settings
from worker.tracing import configure, context_from, tracer

SERVICE = "rolecall-worker"


class SessionObserver:
    """One job's span and counters, from the dispatch to the report."""

    def __init__(self, settings: Settings, *, room: str, job_id: str, metadata: str) -> None:
        self.provider = configure(settings.otlp_endpoint, service=SERVICE, content=settings.trace_content)
        self.started = time.monotonic()
        self.role = ""
        self.span: Span = tracer.start_span(
            "rolecall.session",
            context=context_from(_carried(metadata)),
            attributes={"rolecall.room": room, "rolecall.job_id": job_id},
        )
        self._token: object | None = otel_context.attach(trace.set_span_in_context(self.span))
        self._greeting: Span | None = None

    @contextlib.contextmanager
    def resolving(self) -> Iterator[None]:
        """The span of role resolution."""
        with tracer.start_as_current_span("rolecall.resolve_role"):
            yield

    def refused(self, code: str) -> None:
        """The job ends before a session starts."""
        SESSIONS_REFUSED.labels(code=code).inc()
        self.span.set_status(StatusCode.ERROR, code)
        self._finish()

    def role_resolved(self, role: str) -> None:
        """The session plays `role` (a name from the roles folder)."""
        self.role = role
        self.span.set_attribute("rolecall.role", role)

    def session_started(self, session: Any) -> None:
        """The session starts: count it, and time the greeting until the agent first speaks."""
        SESSIONS_STARTED.labels(role=self.role).inc()

        def speaking(ev: Any) -> None:
            if getattr(ev, "new_state", None) != "speaking":
                return
            session.off("agent_state_changed", speaking)
            GREETING_SECONDS.labels(role=self.role).observe(time.monotonic() - self.started)
            if self._greeting is not None:
                self._greeting.end()

        session.on("agent_state_changed", speaking)

    def greeting(self) -> None:
        """The greeting is asked for; its span ends when the agent first speaks."""
        self._greeting = tracer.start_span("rolecall.greeting")

    def model_error(self, *, recoverable: bool) -> None:
        MODEL_ERRORS.labels(recoverable=str(recoverable).lower()).inc()

    def ended(self, reason: str) -> None:
        """The session is over (its report is written)."""
        if self.role:
            SESSIONS_ENDED.labels(role=self.role, reason=reason).inc()
        self.span.set_attribute("rolecall.end_reason", reason)
        if reason in ("model_error", "crashed"):
            self.span.set_status(StatusCode.ERROR, reason)
        self._finish()

    def leave(self) -> None:
        """The entrypoint returns: its task stops carrying the session's context (the span goes on)."""
        if self._token is not None:
            otel_context.detach(self._token)  # type: ignore[arg-type]
            self._token = None

    def _finish(self) -> None:
        if self._greeting is not None and self._greeting.is_recording():
            self._greeting.end()
        self.span.end()
        if self.provider is not None:
            self.provider.force_flush(timeout_millis=2000)


def _carried(metadata: str) -> dict[str, str]:
    """The trace context the web backend put in the dispatch metadata (`trace`), read leniently: a job
    whose metadata is unusable is refused later, by the flow, with its own message."""
    try:
        carried = json.loads(metadata).get("trace") if metadata.strip() else None
    except (ValueError, AttributeError):
        return {}
    if not isinstance(carried, dict):
        return {}
    return {k: v for k, v in carried.items() if isinstance(k, str) and isinstance(v, str)}
