"""The page protocol: what the worker and the page say to each other, besides audio and transcripts.

One module, typed, so both sides agree: the TypeScript the page library uses is generated from it
(`python -m worker protocol types`, into `frontend/lib/src/generated/protocol.ts`; `make test` fails
when that file is stale).

    agent → page
      attributes of the agent participant   ATTR_ROLE, ATTR_ROLE_TITLE, ATTR_ERROR (JSON ErrorAttribute);
                                            a page that joins late still sees them
      text stream EVENTS_TOPIC              one JSON PageEvent per message
      RPC DISCOVERY_METHOD                  the page answers a DiscoveryReply: the tools it implements
      RPC <the role's frontend tools>       JSON arguments, JSON result (RPC_PAYLOAD_LIMIT both ways)
    page → agent
      text stream CHAT_TOPIC                typed chat from the session's user: at most MAX_CHAT_CHARS
                                            characters (the worker's default), a burst of CHAT_BURST
                                            messages, then one every CHAT_REFILL_S seconds
      RPC EVENT_METHOD                      a UiEventRequest from the session's user (an event the
                                            active role declares), answered with a UiEventReply or an
                                            RPC error whose `data` is an EventRefusalReason
      RPC replies

Transcripts use livekit-agents' standard `lk.transcription` streams and are not part of this module.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

EVENTS_TOPIC = "rolecall.events"
"""Text-stream topic of the agent's events to the page."""
CHAT_TOPIC = "lk.chat"
"""Text-stream topic of typed chat (livekit-agents' standard one)."""
ATTR_ROLE = "rolecall.role"
"""Agent attribute: the active role's name."""
ATTR_ROLE_TITLE = "rolecall.role_title"
"""Agent attribute: the active role's title."""
ATTR_ERROR = "rolecall.error"
"""Agent attribute: why the session cannot go on (JSON of an `ErrorAttribute`); absent while all is well."""
DISCOVERY_METHOD = "rolecall.tools"
"""RPC method the page registers to list the tools it implements (answered with a `DiscoveryReply`)."""
EVENT_METHOD = "rolecall.event"
"""RPC method the agent serves: a UI event from the session's user (`UiEventRequest` → `UiEventReply`)."""
UI_EVENT_TAG = "ui_event"
"""How the worker fences a UI event in the model's context, `<ui_event name="NAME">JSON</ui_event>`
(a system item, never a user turn); the simulator recognises it."""

RPC_PAYLOAD_LIMIT = 15_360
"""LiveKit's RPC request and response payload limit, in UTF-8 bytes."""
RPC_ERROR_MESSAGE_LIMIT = 256
"""LiveKit's limit on RPC error messages, in UTF-8 bytes."""
RPC_METHOD_LIMIT = 64
"""LiveKit's limit on RPC method names, in UTF-8 bytes."""

MAX_CHAT_CHARS = 2000
"""Longest typed message the agent takes, in characters, by default (`ROLECALL_CHAT_MAX_CHARS`)."""
CHAT_BURST = 10
"""Typed messages the agent takes at once."""
CHAT_REFILL_S = 1.0
"""After a burst, the agent takes one more typed message every this many seconds."""

SAY_EXACTLY = "Say exactly this, and nothing else:"
"""How the worker asks the model for exact words (a role's `greeting: {say: ...}`); the simulator
recognises it, as a real model complies with it."""

AgentErrorCode = Literal["bad_dispatch", "unknown_role", "role_error", "model_unavailable"]
"""Why the agent cannot serve the session (ErrorEvent, ErrorAttribute):
`bad_dispatch` the dispatch metadata is unusable; `unknown_role` no such role; `role_error` the role
has no valid version or its variables are wrong; `model_unavailable` the model connection is lost for good."""

PageErrorCode = Literal["agent_did_not_join", "agent_left", "session_limit", "agent_error"]
"""What the page library reports itself (never sent by the worker): the agent did not join in time,
it left, the session reached a limit, or the worker's error attribute was unreadable (`agent_error`)."""

TimeLimit = Literal["max_duration", "idle"]
"""The role's time limits: the session's length (`max_duration_s`), the user's silence (`idle_timeout_s`)."""
RefusalReason = Literal["too_long", "too_fast"]
"""Why a typed message was not taken: over the length limit, or over the rate."""
EventRefusalReason = Literal["not_allowed", "unknown_event", "invalid_payload", "too_large", "too_fast"]
"""Why a UI event was refused (the RPC error's `data`): the caller is not the session's user; the active
role declares no such event; the payload does not match the event's schema; it is over the event's
`max_bytes`; more events of that name than its `rate_limit` allows."""
EventResponse = Literal["never", "when_idle", "now"]
"""What the agent does with an accepted UI event (the role's `respond`): takes note only; answers once
it is quiet, unless it already has; answers at once."""
ToolMode = Literal["foreground", "background"]
"""How a tool runs: the agent waits for it, or goes on talking while it runs."""
ToolStatus = Literal["started", "progress", "done", "failed"]
"""Where a tool call is: running; running, and the agent said `message`; answered; failed, refused or
cancelled."""

EndReason = Literal[
    "end_session",
    "max_duration",
    "idle",
    "budget",
    "user_left",
    "user_absent",
    "model_error",
    "worker_shutdown",
    "session_closed",
    "crashed",
    "app_ended",
]
"""Why a session ended (the report's `end_reason`): the model called `end_session`; a limit of the role
(`max_duration`, `idle`, `budget`); the user did not come back within the grace period (`user_left`),
or never joined (`user_absent`); the model connection was lost for good (`model_error`); the worker
shut the job down (drain limit, exit: `worker_shutdown`); livekit-agents closed the session for a reason
of its own (`session_closed`); the session's process died before it finished (`crashed`: a partial report,
`complete: false`, sent by the worker's main process from the session's checkpoints); the app backend
ended it through the control API (`app_ended`)."""


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class RoleEvent(_Message):
    """The active role changed (the session started, or a handoff)."""

    type: Literal["role"] = "role"
    name: str
    """The role's name."""
    title: str
    """The role's title, for display."""


class ErrorEvent(_Message):
    """The session cannot go on; the agent leaves."""

    type: Literal["error"] = "error"
    code: AgentErrorCode
    message: str
    """For people; never server paths or the model provider's own words."""


class TimeLimitEvent(_Message):
    """The session reached a time limit of its role; the agent says goodbye and leaves."""

    type: Literal["session_limit"] = "session_limit"
    limit: TimeLimit
    limit_s: float
    """The limit, in seconds."""


class BudgetLimitEvent(_Message):
    """The session reached its role's `max_cost_usd`; the agent says goodbye and leaves."""

    type: Literal["session_limit"] = "session_limit"
    limit: Literal["budget"] = "budget"
    limit_usd: float
    """The budget, in US dollars."""


class InputRefusedEvent(_Message):
    """A typed message the agent did not take; the session goes on."""

    type: Literal["input_refused"] = "input_refused"
    reason: RefusalReason
    message: str
    """For people: what to do instead."""


class ToolActivityEvent(_Message):
    """A tool call started, made progress, answered or failed (any kind: frontend, http, handoff, ...)."""

    type: Literal["tool"] = "tool"
    call_id: str
    """The model's id of the call; every event of one call carries it."""
    name: str
    """The tool's name, as in the role file."""
    kind: str
    """The tool's kind (`frontend`, `http`, `handoff`, `builtin`, ...)."""
    mode: ToolMode
    status: ToolStatus
    duration_ms: float | None
    """Since the call started (null when it starts)."""
    message: str | None
    """With `progress`: what the agent was asked to say; otherwise null."""
    arguments: dict[str, Any] | None
    """The call's arguments, when the role's `show_arguments` allows; otherwise null."""


SessionLimitEvent = Annotated[TimeLimitEvent | BudgetLimitEvent, Field(discriminator="limit")]
"""The session reached a limit of its role (a time limit or the budget); discriminated by `limit`."""
PageEvent = Annotated[
    RoleEvent | ErrorEvent | SessionLimitEvent | InputRefusedEvent | ToolActivityEvent,
    Field(discriminator="type"),
]
"""One message on EVENTS_TOPIC."""

PAGE_EVENT: TypeAdapter[PageEvent] = TypeAdapter(PageEvent)
"""Parses and validates a PageEvent from JSON (`PAGE_EVENT.validate_json(text)`)."""


class ErrorAttribute(_Message):
    """The value of ATTR_ERROR (JSON)."""

    code: AgentErrorCode
    message: str


class DiscoveryReply(_Message):
    """The page's answer to DISCOVERY_METHOD. Keys a newer page adds are ignored (forward compatible)."""

    model_config = ConfigDict(extra="ignore", frozen=True, use_attribute_docstrings=True)

    tools: list[str]
    """The RPC methods (tool names) this page implements."""


class UiEventRequest(_Message):
    """The page's EVENT_METHOD payload: an event the active role declares, with its data."""

    name: str
    """The event's name (the role's `events[].name`)."""
    payload: dict[str, Any]
    """The event's data: a JSON object valid against the event's `payload` schema."""


class UiEventReply(_Message):
    """The agent's answer to EVENT_METHOD: the event is in the conversation."""

    name: str
    respond: EventResponse
    """What the agent does with it (the role's `respond`)."""


def encode(message: BaseModel) -> str:
    """A protocol message as the JSON text that goes on the wire."""
    return message.model_dump_json()
