"""The control API and the live events in the OpenAPI document (`worker.web.openapi` adds them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from worker.control.commands import BODIES, CommandAccepted
from worker.control.service import SessionDetail, SessionList
from worker.events.model import EVENT_TYPES, LiveEvent

MODELS: list[tuple[type[BaseModel], JsonSchemaMode]] = [
    *((model, "validation") for model in BODIES.values()),
    (CommandAccepted, "serialization"),
    (SessionList, "serialization"),
    (SessionDetail, "serialization"),
    (LiveEvent, "serialization"),
]

_SUMMARIES = {
    "say": "The agent says `text`, word for word (after its current speech, or at once with `interrupt`).",
    "context": "Add information to the conversation (a system item, never a user turn); no reply.",
    "respond": "The agent replies now (`instructions`, if given, for this reply only).",
    "handoff": "Switch the session to another role, as a handoff tool would (conversation kept).",
    "end": "End the session (the report says `end_reason: app_ended`), after `goodbye` if given.",
}


def paths(json: Any, error: Any, limited: Any, body: Any, body_errors: dict[str, Any]) -> dict[str, Any]:
    """The `/api/sessions` paths, written with `worker.web.openapi`'s helpers."""
    security: list[dict[str, list[str]]] = [{"controlApiKey": []}]
    auth = {
        "401": error("unauthorized / invalid_api_key: no key, or not one of ROLECALL_WEB_API_KEYS"),
        "503": error("control_off: no ROLECALL_WEB_API_KEYS; livekit_unavailable: LiveKit is not reachable"),
    }
    room = [{"name": "room", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 128}}]
    out: dict[str, Any] = {
        "/api/sessions": {
            "get": {
                "operationId": "listSessions",
                "summary": "Running sessions: rooms with a RoleCall agent in them.",
                "security": security,
                "responses": {"200": json(SessionList, "the sessions, oldest first"), **auth},
            }
        },
        "/api/sessions/{room}": {
            "get": {
                "operationId": "getSession",
                "summary": "One session, with the tail of its transcript (the last lines the worker saved).",
                "security": security,
                "parameters": room,
                "responses": {
                    "200": json(SessionDetail, "the session"),
                    "404": error("unknown_room: no such room is open"),
                    "409": error("no_agent: the room has no RoleCall agent in it"),
                    **auth,
                },
            }
        },
    }
    out["/api/demo/events"] = {
        "post": {
            "operationId": "demoEvents",
            "summary": "The demo's live event receiver (ROLECALL_EVENTS_URL in `make demo`): a start_timer "
            "call schedules a `context` command for when the timer ends.",
            "requestBody": body(LiveEvent),
            "responses": {
                "200": {"description": "taken (every verified event)"},
                "401": error("bad_signature: not signed with ROLECALL_WEBHOOK_SECRET"),
                "503": error("not_configured: ROLECALL_WEBHOOK_SECRET is not set"),
                **body_errors,
            },
        }
    }
    for name, model in BODIES.items():
        out[f"/api/sessions/{{room}}/{name}"] = {
            "post": {
                "operationId": f"{name}Session",
                "summary": _SUMMARIES[name],
                "description": "202: LiveKit took the command for the agent; its outcome arrives as a "
                "`control.applied` or `control.failed` live event carrying `command_id`.",
                "security": security,
                "parameters": room,
                "requestBody": body(model),
                "responses": {
                    "202": json(CommandAccepted, "on its way to the agent"),
                    **body_errors,
                    "400": error(
                        "malformed_json, bad_body; invalid_vars (handoff): the role does not take them"
                    ),
                    "404": error("unknown_room; unknown_role (handoff)"),
                    "409": error("no_agent: the room has no RoleCall agent in it"),
                    "413": error("body_too_large, command_too_large"),
                    "429": limited("rate_limited: too many commands for this session"),
                    **auth,
                },
            }
        }
    return out


def webhook(body: Any, header: Any) -> dict[str, Any]:
    """The live events, as an OpenAPI webhook."""
    return {
        "post": {
            "operationId": "liveEvent",
            "summary": "A live event of a session, POSTed to ROLECALL_EVENTS_URL (Standard Webhooks).",
            "description": f"Types: {', '.join(EVENT_TYPES)} (ROLECALL_EVENTS_FILTER picks). One session's "
            "events arrive one at a time, in `seq` order; an event is retried (ROLECALL_EVENTS_RETRY_S) for "
            "ROLECALL_EVENTS_GIVE_UP_S, then dropped so the next can follow. Deduplicate on webhook-id.",
            "parameters": [
                header("webhook-id", "the event's id (= `id`), the same on every attempt"),
                header("webhook-timestamp", "this attempt's time, unix seconds"),
                header("webhook-signature", "as for sessionEnded: signed with ROLECALL_WEBHOOK_SECRET"),
            ],
            "requestBody": body(LiveEvent),
            "responses": {
                "200": {"description": "received (any 2xx)"},
                "410": {"description": "gone: this event is not sent again"},
                "500": {"description": "any other answer, or none in time: sent again shortly"},
            },
        }
    }
