"""The protocol's vocabulary: client events parsed and checked, server events built and validated.

Both directions are checked against the official `openai` package's types
(`openai.types.realtime`), looked up by the event's `type`, so an error names the exact field.
The openai models accept unknown keys; this module also rejects them, because the real service
does ("Unknown parameter") and because a server event with a misspelt field would pass unnoticed.
"""

from __future__ import annotations

import json
import secrets
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openai.types.realtime import RealtimeClientEvent, RealtimeServerEvent
from pydantic import BaseModel, TypeAdapter, ValidationError

JsonDict = dict[str, Any]


def models_by_type(union: object) -> dict[str, TypeAdapter[Any]]:
    """Map each event `type` literal of an openai event union to an adapter for its model."""
    inner = typing.get_args(union)[0] if typing.get_origin(union) is typing.Annotated else union
    table: dict[str, TypeAdapter[Any]] = {}
    for model in typing.get_args(inner):
        for literal in typing.get_args(model.model_fields["type"].annotation):
            table[literal] = TypeAdapter(model)
    return table


CLIENT_EVENTS: dict[str, TypeAdapter[Any]] = models_by_type(RealtimeClientEvent)
"""Adapters for every client event of the GA protocol, by `type`."""

SERVER_EVENTS: dict[str, TypeAdapter[Any]] = models_by_type(RealtimeServerEvent)
"""Adapters for every server event of the GA protocol, by `type`."""


def new_id(prefix: str) -> str:
    """An id shaped like OpenAI's (`event_…`, `item_…`, `resp_…`, `call_…`)."""
    return f"{prefix}_{secrets.token_hex(10)}"


class ProtocolError(Exception):
    """A client event the simulator refuses; becomes an `error` server event, the socket stays open."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = "invalid_value",
        param: str | None = None,
        event_id: str | None = None,
        type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param
        self.event_id = event_id
        self.type = type


@dataclass(frozen=True)
class ClientEvent:
    """A client event that passed validation: its `type`, the raw dict, and the openai model."""

    type: str
    raw: JsonDict
    model: Any

    @property
    def event_id(self) -> str | None:
        value = self.raw.get("event_id")
        return value if isinstance(value, str) else None


def extra_fields(value: object, path: str = "") -> list[str]:
    """Dotted paths of keys an openai model accepted but does not declare, at any depth."""
    found: list[str] = []
    if isinstance(value, BaseModel):
        for key in value.model_extra or {}:
            found.append(f"{path}{key}")
        for name in type(value).model_fields:
            found.extend(extra_fields(getattr(value, name), f"{path}{name}."))
    elif isinstance(value, list):
        for i, element in enumerate(value):
            found.extend(extra_fields(element, f"{path}{i}."))
    elif isinstance(value, dict):
        # free-form dicts (tool parameters, metadata) may hold anything
        pass
    return found


def _param(loc: tuple[int | str, ...]) -> str:
    # union branches appear in `loc` by class name (CamelCase) or tag; fields are snake_case
    parts = [str(p) for p in loc if not (isinstance(p, str) and (p[:1].isupper() or "[" in p))]
    return ".".join(parts)


_PY_TO_JSON = {
    "string": "a string",
    "str": "a string",
    "model": "an object",
    "dict": "an object",
    "list": "an array",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
}


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def error_from_validation(exc: ValidationError, event_id: str | None) -> ProtocolError:
    errors = exc.errors()

    # A union reports one error list per branch; the branch meant is the one whose literals
    # (`type`, `role`) matched, so drop branches with a literal mismatch, then take the deepest.
    def branch(loc: tuple[int | str, ...]) -> tuple[str, ...]:
        return tuple(p for p in loc if isinstance(p, str) and (p[:1].isupper() or "[" in p))

    mismatched = {branch(e["loc"]) for e in errors if e["type"] == "literal_error"}
    candidates = [e for e in errors if branch(e["loc"]) not in mismatched]
    if candidates:
        err = max(candidates, key=lambda e: len(_param(e["loc"])))
    else:  # no branch fits: report the closest one, the branch with the fewest errors
        sizes = {b: sum(1 for e in errors if branch(e["loc"]) == b) for b in mismatched}
        closest = min(sizes, key=lambda b: sizes[b])
        err = next(e for e in errors if branch(e["loc"]) == closest and e["type"] == "literal_error")
    param = _param(err["loc"]) or None
    kind = err["type"]
    if kind == "missing":
        return ProtocolError(
            f"Missing required parameter: '{param}'.",
            code="missing_required_parameter",
            param=param,
            event_id=event_id,
        )
    if kind.endswith("_type") or kind.endswith("_parsing"):
        expected = _PY_TO_JSON.get(kind.removesuffix("_type").removesuffix("_parsing"), kind)
        return ProtocolError(
            f"Invalid type for '{param}': expected {expected}, but got {_json_kind(err['input'])} instead.",
            code="invalid_type",
            param=param,
            event_id=event_id,
        )
    return ProtocolError(
        f"Invalid value for '{param}': {err['msg']}.", code="invalid_value", param=param, event_id=event_id
    )


def parse_client_event(
    data: str | bytes, *, max_bytes: int, events: Mapping[str, TypeAdapter[Any]] = CLIENT_EVENTS
) -> ClientEvent:
    """Parse and validate one client frame; raise `ProtocolError` shaped like OpenAI's.

    `events` are the protocol's client event types (the Realtime ones by default; `live_events` passes
    GPT-Live's)."""
    if isinstance(data, bytes):
        raise ProtocolError("Binary frames are not supported; send JSON text.", code="invalid_json")
    if len(data) > max_bytes:
        raise ProtocolError(
            f"Event too large: {len(data)} bytes, the maximum is {max_bytes} bytes.",
            code="invalid_value",
        )
    try:
        raw = json.loads(data)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ProtocolError(
            f"We could not parse the JSON body of your request. ({exc})", code="invalid_json"
        ) from None
    if not isinstance(raw, dict):
        raise ProtocolError("Invalid event: expected a JSON object.", code="invalid_json")
    event_id = raw.get("event_id") if isinstance(raw.get("event_id"), str) else None
    event_type = raw.get("type")
    if not isinstance(event_type, str):
        raise ProtocolError(
            "Missing required parameter: 'type'.",
            code="missing_required_parameter",
            param="type",
            event_id=event_id,
        )
    adapter = events.get(event_type)
    if adapter is None:
        supported = ", ".join(f"'{t}'" for t in sorted(events))
        raise ProtocolError(
            f"Invalid value: '{event_type[:64]}'. Supported values are: {supported}.",
            code="invalid_value",
            param="type",
            event_id=event_id,
        )
    try:
        model = adapter.validate_python(raw)
    except ValidationError as exc:
        raise error_from_validation(exc, event_id) from None
    except RecursionError:
        raise ProtocolError("Invalid event: nested too deeply.", event_id=event_id) from None
    unknown = extra_fields(model)
    if unknown:
        raise ProtocolError(
            f"Unknown parameter: '{unknown[0]}'.",
            code="unknown_parameter",
            param=unknown[0],
            event_id=event_id,
        )
    return ClientEvent(type=event_type, raw=raw, model=model)


def validate_server_event(
    event: JsonDict, events: Mapping[str, TypeAdapter[Any]] = SERVER_EVENTS
) -> list[str]:
    """Check an outgoing event against the openai server event types (`events`: the Realtime ones by
    default); return the problems found."""
    event_type = event.get("type")
    adapter = events.get(event_type) if isinstance(event_type, str) else None
    if adapter is None:
        return [f"unknown server event type {event_type!r}"]
    try:
        model = adapter.validate_python(event)
    except ValidationError as exc:
        return [f"{_param(e['loc'])}: {e['msg']}" for e in exc.errors()]
    return [f"{path}: not a field of {type(model).__name__}" for path in extra_fields(model)]


def error_event(err: ProtocolError) -> JsonDict:
    """The `error` server event for a refused client event."""
    return {
        "type": "error",
        "event_id": new_id("event"),
        "error": {
            "type": err.type,
            "code": err.code,
            "message": err.message,
            "param": err.param,
            "event_id": err.event_id,
        },
    }
