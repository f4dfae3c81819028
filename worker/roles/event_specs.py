"""UI events a role accepts from the page (`events:`): what the user did on screen, told to the agent.

An event is context for the model, never a user turn: the worker adds it to the conversation as a
system item and, as `respond` says, lets the agent answer (`worker.session.ui_events`). The payload is
checked against `payload` (a JSON Schema, limited to what tool parameters may use: `worker.roles.
parameters`), its size against `max_bytes`, and its rate against `rate_limit`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from worker.protocol import EventResponse
from worker.roles._base import FileModel

EVENT_NAME = r"^[a-z][a-z0-9_]{0,63}$"
"""Event names: lowercase letters, digits and _, starting with a letter (at most 64)."""
MAX_EVENT_BYTES = 8192
"""The largest payload a role may accept: every accepted event stays in the model's context."""

Respond = EventResponse
"""What the agent does with an event: `never` only takes note (the model reads it on its next turn);
`when_idle` answers once it has finished speaking, unless it has already spoken since; `now`
interrupts itself and answers at once (the page protocol's `EventResponse`)."""


def _default_payload() -> dict[str, Any]:
    return {"type": "object", "properties": {}, "additionalProperties": False}


class RateLimit(FileModel):
    """How many events of one name the page may send: a burst, then a steady rate."""

    burst: int = Field(5, ge=1, le=100)
    """Events taken at once."""
    per_minute: float = Field(30, gt=0, le=600)
    """After the burst, events taken per minute."""


class UiEvent(FileModel):
    """One event the page may send (`sendEvent(name, payload)` in `@rolecall/client`)."""

    name: str = Field(pattern=EVENT_NAME)
    """What the page calls it, e.g. ingredient_checked; unique within the role."""
    description: str = Field(min_length=1, max_length=1024)
    """What it means, for the model: e.g. The user ticked or unticked an ingredient by hand."""
    payload: dict[str, Any] = Field(default_factory=_default_payload)
    """JSON Schema (object) of the event's data, with the keywords tool parameters may use."""
    respond: Respond = "never"
    """never: context only; when_idle: the agent answers once it is quiet, unless it already has;
    now: the agent stops and answers at once."""
    rate_limit: RateLimit = Field(default_factory=RateLimit)
    """Events of this name taken at once, then per minute; more are refused (the session goes on)."""
    max_bytes: int = Field(2048, ge=2, le=MAX_EVENT_BYTES)
    """Largest payload accepted, in UTF-8 bytes of its JSON."""
