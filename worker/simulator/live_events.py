"""GPT-Live's vocabulary: client events parsed and checked, server events validated, errors built.

The same rules as the Realtime mode (`events.py`), against the `openai` package's GPT-Live types
(`openai.types.live`): a client event is looked up by its `type` and validated, unknown keys at any
depth are refused (the service's session configuration "rejects unknown fields"), and every server
event is checked before it goes out. The Responses events GPT-Live nests in `response.event` envelopes
are checked too, against `openai.types.responses`.
"""

from __future__ import annotations

import typing
from typing import Any

from openai.types.live import ClientEvent as LiveClientEvent
from openai.types.live import ServerEvent as LiveServerEvent
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

from worker.simulator.events import (
    ClientEvent,
    JsonDict,
    ProtocolError,
    models_by_type,
    new_id,
    parse_client_event,
    validate_server_event,
)

CLIENT_EVENTS: dict[str, TypeAdapter[Any]] = models_by_type(LiveClientEvent)
"""Adapters for every GPT-Live client event, by `type`."""

SERVER_EVENTS: dict[str, TypeAdapter[Any]] = models_by_type(LiveServerEvent)
"""Adapters for every GPT-Live server event, by `type`."""

RESPONSE_EVENTS: dict[str, TypeAdapter[Any]] = models_by_type(ResponseStreamEvent)
"""Adapters for the Responses streaming events nested in `response.event`."""

APPENDS = ("session.instructions.append", "session.thinking.append", "session.commentary.append")
"""The three context appends, whose `delegation_id` is "required, nullable"."""


def _with_event_id(union: object) -> frozenset[str]:
    inner = typing.get_args(union)[0] if typing.get_origin(union) is typing.Annotated else union
    return frozenset(
        literal
        for model in typing.get_args(inner)
        if "event_id" in model.model_fields
        for literal in typing.get_args(model.model_fields["type"].annotation)
    )


WITH_EVENT_ID: frozenset[str] = _with_event_id(LiveServerEvent)
"""Server event types that carry an `event_id` (audio deltas on the primary WebSocket do not)."""


def parse_live_client_event(data: str | bytes, *, max_bytes: int) -> ClientEvent:
    """Parse and validate one GPT-Live client frame; raise `ProtocolError` shaped like the service's."""
    event = parse_client_event(data, max_bytes=max_bytes, events=CLIENT_EVENTS)
    if event.type in APPENDS and "delegation_id" not in event.raw:
        # The openai type lets it default to null; the service requires the key (null for general
        # context), so a client that forgets it learns here rather than in production.
        raise ProtocolError(
            "Missing required parameter: 'delegation_id' (null for general session context).",
            code="missing_required_parameter",
            param="delegation_id",
            event_id=event.event_id,
        )
    return event


def validate_live_server_event(event: JsonDict) -> list[str]:
    """Check an outgoing GPT-Live event (and the Responses event inside a `response.event`)."""
    problems = validate_server_event(event, SERVER_EVENTS)
    if event.get("type") == "response.event" and isinstance(event.get("event"), dict):
        problems += [f"event.{p}" for p in validate_server_event(event["event"], RESPONSE_EVENTS)]
    return problems


def live_error_event(err: ProtocolError) -> JsonDict:
    """The `error` server event for a refused client event (GPT-Live's shape: `code` is never null)."""
    error: JsonDict = {
        "type": err.type,
        "code": err.code or "server_error",
        "message": err.message,
        "param": err.param,
    }
    event: JsonDict = {"type": "error", "event_id": new_id("event"), "error": error}
    if err.event_id is not None:
        error["client_event_id"] = err.event_id
        event["client_event_id"] = err.event_id
    return event
