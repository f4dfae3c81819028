"""The OpenAPI 3.1 description of the web API, generated from the pydantic models in `worker.web.models`.

Only the routing facts (paths, methods, status codes, headers) are written here; every body schema
comes from `model_json_schema`, so the description cannot drift from what the handlers validate.

`webhooks` describes what the worker sends to the app backend, so that backends can generate types too:
the `session.ended` event (Standard Webhooks) and an `http` tool's request.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from worker.outbox.envelope import SessionEnded
from worker.web import models as m

REF = "#/components/schemas/{model}"

_MODELS: list[tuple[type[BaseModel], JsonSchemaMode]] = [
    (m.RolesResponse, "serialization"),
    (m.SessionRequest, "validation"),
    (m.SessionResponse, "serialization"),
    (m.RedispatchResponse, "serialization"),
    (m.RecipeSearchRequest, "validation"),
    (m.RecipeSearchResponse, "serialization"),
    (m.Recipe, "serialization"),
    (m.HealthResponse, "serialization"),
    (m.ErrorResponse, "serialization"),
    (SessionEnded, "serialization"),
]


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _error(description: str) -> dict[str, Any]:
    return _json(m.ErrorResponse, description)


def _limited(description: str) -> dict[str, Any]:
    retry_after = {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}
    return {**_error(description), "headers": {"Retry-After": retry_after}}


def _body(model: type[BaseModel]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(model)}}}


_BODY_ERRORS = {
    "400": _error("malformed_json: the body is not JSON; bad_body: it is incomplete or badly encoded"),
    "408": _error("body_timeout: the body did not arrive in time"),
    "413": _error("body_too_large: the body is over the size cap"),
    "415": _error("unsupported_media_type: Content-Type is not application/json"),
    "422": _error("invalid_request: a field has the wrong type or value; `field` names it"),
}


def spec(version: str = "0.1.0") -> dict[str, Any]:
    """The whole OpenAPI document."""
    from worker.control import docs as control  # it builds on this module's helpers

    _, defs = models_json_schema([*_MODELS, *control.MODELS], ref_template=REF)
    paths: dict[str, Any] = {
        "/api/roles": {
            "get": {
                "operationId": "listRoles",
                "summary": "The roles a page may start a session with (name, title, description).",
                "responses": {"200": _json(m.RolesResponse, "the valid roles, sorted by name")},
            }
        },
        "/api/session": {
            "post": {
                "operationId": "createSession",
                "summary": "Start a session: a fresh room, a short-lived token, and the agent dispatched.",
                "description": "Who may call it is set by ROLECALL_WEB_AUTH: anyone (`none`), the app's "
                "servers with an API key (`api-key`, which may also set `identity`), or browsers with a "
                "JWT issued by the app (`jwt`). Admission: a per-client rate and a global cap (429).",
                "security": [{}, {"appApiKey": []}, {"appToken": []}],
                "requestBody": _body(m.SessionRequest),
                "responses": {
                    "200": _json(m.SessionResponse, "connect to `url` with `token`"),
                    **_BODY_ERRORS,
                    "400": _error("malformed_json, bad_body, or invalid_vars: the role rejected `vars`"),
                    "401": _error(
                        "unauthorized (no bearer credential), invalid_api_key, or invalid_token (the "
                        "app's JWT does not verify: signature, algorithm, exp, iss, aud, or claims)"
                    ),
                    "403": _error(
                        "role_not_allowed (not in the app token's roles), var_set_by_app (the page "
                        "sent a variable the token asserts), or identity_not_allowed (only api-key "
                        "callers set identity)"
                    ),
                    "404": _error("unknown_role: `roles` lists the valid names"),
                    "429": _limited(
                        "rate_limited (this client started too many sessions) or too_many_sessions (the "
                        "deployment is at ROLECALL_WEB_MAX_SESSIONS); see Retry-After"
                    ),
                    "503": _error(
                        "role_unavailable (role file invalid), livekit_unavailable, or auth_unavailable "
                        "(the app's signing keys cannot be fetched)"
                    ),
                },
            }
        },
        "/api/session/redispatch": {
            "post": {
                "operationId": "redispatchAgent",
                "summary": "Bring the agent back into the session's room (same role, vars and user).",
                "description": "Everything comes from the token's signed claims; a body is ignored.",
                "security": [{"sessionToken": []}],
                "responses": {
                    "200": _json(
                        m.RedispatchResponse,
                        "an agent is on its way: a new dispatch, or one made moments ago (concurrent "
                        "calls for one room make exactly one)",
                    ),
                    "401": _error(
                        "unauthorized / invalid_token: missing or invalid token, or older than its "
                        "session can last"
                    ),
                    "404": _error("unknown_role: the token's role no longer exists"),
                    "409": _error("agent_present: an agent participant is already in the room"),
                    "429": _limited("rate_limited: the agent was sent to this room moments ago"),
                    "503": _error("role_unavailable or livekit_unavailable"),
                },
            }
        },
        "/api/recipes/search": {
            "post": {
                "operationId": "searchRecipes",
                "summary": "The cooking guide's find_recipes tool; only calls signed by the worker.",
                "security": [{"toolSignature": []}],
                "requestBody": _body(m.RecipeSearchRequest),
                "responses": {
                    "200": _json(m.RecipeSearchResponse, "best matches first"),
                    **_BODY_ERRORS,
                    "401": _error("bad_signature: missing, stale or wrong X-RoleCall-Signature"),
                    "503": _error("not_configured: ROLECALL_TOOL_SECRET is not set"),
                },
            }
        },
        "/api/recipes/{id}": {
            "get": {
                "operationId": "getRecipe",
                "summary": "A full recipe card, for show_recipe.",
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,63}$"},
                    }
                ],
                "responses": {
                    "200": _json(m.Recipe, "the recipe"),
                    "404": _error("not_found: no recipe with that id"),
                },
            }
        },
        "/api/health": {
            "get": {
                "operationId": "health",
                "summary": "Ready when at least one role is valid and LiveKit answers.",
                "responses": {
                    "200": _json(m.HealthResponse, "ready"),
                    "503": _error("unhealthy: the message says why"),
                },
            }
        },
        "/api/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document.",
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    }
    paths.update(control.paths(_json, _error, _limited, _body, _BODY_ERRORS))
    return {
        "openapi": "3.1.0",
        "webhooks": webhooks(),
        "info": {
            "title": "RoleCall web backend",
            "version": version,
            "description": "Session start for the RoleCall demo: role allowlist, LiveKit tokens with "
            "explicit grants, explicit agent dispatch, and the cooking guide's recipe tool. Every error is "
            '`{"error": {"code", "message"}}`.',
        },
        "paths": paths,
        "components": {
            "schemas": defs["$defs"],
            "securitySchemes": {
                "sessionToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "the `token` returned by POST /api/session",
                },
                "appApiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "ROLECALL_WEB_AUTH=api-key: a key of ROLECALL_WEB_API_KEYS (the app's "
                    "servers only; never give it to a browser)",
                },
                "appToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "ROLECALL_WEB_AUTH=jwt: a JWT issued by the app (HS256, or RS256/ES256 "
                    "from its JWKS) with exp, iss, aud, sub (the user) and roles (what the user may "
                    "start); optional vars are asserted by the app and override the page's",
                },
                "controlApiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "the control API (/api/sessions): a key of ROLECALL_WEB_API_KEYS, in any "
                    "ROLECALL_WEB_AUTH mode (the app's servers only; never give it to a browser)",
                },
                "toolSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-RoleCall-Signature",
                    "description": _TOOL_SIGNATURE,
                },
            },
        },
    }


_TOOL_SIGNATURE = (
    "t=<unix seconds>,v1=<hex>,v2=<hex>: v2 = HMAC-SHA256(secret, t + '.' + METHOD + '.' + path with query + "
    "'.' + Idempotency-Key + '.' + body), checked within 300 s of t; v1 (body only) is for older backends"
)


def _header(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": True,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def webhooks() -> dict[str, Any]:
    """What the worker sends the app backend: the session event and the http tools' requests."""
    return {
        "sessionEnded": {
            "post": {
                "operationId": "sessionEnded",
                "summary": "One per session, sent to ROLECALL_WEBHOOK_URL by the worker (Standard Webhooks).",
                "description": "Retried with back-off for up to 3 days (ROLECALL_WEBHOOK_RETRY_S, "
                "ROLECALL_WEBHOOK_GIVE_UP_S) until a 2xx answer; 410 stops it. Every attempt has the same "
                "webhook-id and body: deduplicate on it. A session whose process died is reported too, "
                "from its checkpoints (`end_reason: crashed`, `complete: false`).",
                "parameters": [
                    _header("webhook-id", "the event's id (= `id`), the same on every attempt"),
                    _header("webhook-timestamp", "this attempt's time, unix seconds", {"type": "string"}),
                    _header(
                        "webhook-signature",
                        "space-separated `v1,<base64 HMAC-SHA256(key, id + '.' + timestamp + '.' + body)>`, "
                        "one per secret (two while rotating)",
                    ),
                ],
                "requestBody": _body(SessionEnded),
                "responses": {
                    "200": {"description": "received (any 2xx): not sent again"},
                    "410": {"description": "gone: not sent again, kept in the spool's dead/ folder"},
                    "500": {"description": "any other answer, or none in time: sent again later"},
                },
            }
        },
        "liveEvent": _live_event(),
        "httpToolCall": {
            "post": {
                "operationId": "httpToolCall",
                "summary": "An `http` tool's call, POSTed to the tool's url (ROLECALL_APP_URL + path).",
                "description": "Sent when the model calls the tool, with arguments already checked against "
                "the tool's `parameters` schema. Answer 2xx with JSON (the model reads it); anything else "
                "becomes the tool's error_message. The same call may arrive again (a retry): answer it "
                "from what you stored for its Idempotency-Key.",
                "security": [{"toolSignature": []}],
                "parameters": [
                    _header("Idempotency-Key", "the same for every request of one tool call"),
                    _header("X-RoleCall-Tool", "the tool's name"),
                    _header("X-RoleCall-Session", "the session (`<room>:<job id>`, the report's session_id)"),
                    _header("X-RoleCall-Room", "the LiveKit room"),
                    _header("X-RoleCall-Participant", "the user's identity"),
                    _header("X-RoleCall-Role", "the role that called the tool"),
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "description": "the tool's arguments, valid against its `parameters` schema",
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "the answer the model reads (any JSON, at most max_response_bytes)",
                        "content": {"application/json": {"schema": {}}},
                    },
                    "401": {"description": "a bad signature: the model is told the tool failed"},
                },
            }
        },
    }


def _live_event() -> dict[str, Any]:
    from worker.control import docs as control

    return control.webhook(_body, _header)
