"""The OpenAPI document is well-formed OpenAPI 3.1 and generated from the models (pure)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.web.conftest import assert_matches_openapi
from worker.web.models import Recipe, SessionRequest
from worker.web.openapi import spec

pytestmark = pytest.mark.unit

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
EXPECTED = {
    ("/api/roles", "get"),
    ("/api/session", "post"),
    ("/api/session/redispatch", "post"),
    ("/api/recipes/search", "post"),
    ("/api/recipes/{id}", "get"),
    ("/api/health", "get"),
    ("/api/openapi.json", "get"),
    ("/api/sessions", "get"),
    ("/api/sessions/{room}", "get"),
    ("/api/sessions/{room}/say", "post"),
    ("/api/sessions/{room}/context", "post"),
    ("/api/sessions/{room}/respond", "post"),
    ("/api/sessions/{room}/handoff", "post"),
    ("/api/sessions/{room}/end", "post"),
    ("/api/demo/events", "post"),
}


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def test_top_level_structure() -> None:
    doc = spec()
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] and doc["info"]["version"]
    assert {(p, m) for p, ops in doc["paths"].items() for m in ops} == EXPECTED


def test_every_operation_is_complete() -> None:
    doc = spec()
    ids = []
    for path, ops in doc["paths"].items():
        assert path.startswith("/")
        for method, op in ops.items():
            assert method in METHODS
            ids.append(op["operationId"])
            assert op["responses"], (path, method)
            for status, response in op["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d", status)
                assert response["description"]
            for name in re.findall(r"\{(\w+)\}", path):
                assert any(
                    p["name"] == name and p["in"] == "path" and p["required"] for p in op["parameters"]
                )
            for requirement in op.get("security", []):
                assert set(requirement) <= set(doc["components"]["securitySchemes"])
    assert len(ids) == len(set(ids))


def test_every_ref_resolves_and_every_schema_is_valid_json_schema() -> None:
    doc = spec()
    schemas = doc["components"]["schemas"]
    for ref in refs(doc):
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in schemas, ref
    for schema in schemas.values():
        Draft202012Validator.check_schema(schema)


def test_bodies_come_from_the_models() -> None:
    schemas = spec()["components"]["schemas"]
    assert schemas["SessionRequest"]["required"] == ["role"]
    assert schemas["SessionRequest"]["additionalProperties"] is False
    assert set(schemas["SessionResponse"]["properties"]) == {
        "url",
        "token",
        "room",
        "identity",
        "role",
        "expires_at",
        "pre_connect_audio",
    }
    assert set(schemas["Recipe"]["properties"]) == set(Recipe.model_fields)
    assert set(schemas["SessionRequest"]["properties"]) == set(SessionRequest.model_fields)


def test_the_schemas_accept_good_bodies_and_refuse_bad_ones() -> None:
    assert_matches_openapi("/api/health", "get", 200, {"status": "ok"})
    assert_matches_openapi(
        "/api/session", "post", 404, {"error": {"code": "unknown_role", "message": "m", "roles": ["a"]}}
    )
    with pytest.raises(AssertionError):
        assert_matches_openapi("/api/health", "get", 200, {"status": "bad"})
    with pytest.raises(AssertionError):
        assert_matches_openapi("/api/roles", "get", 200, {"roles": [{"name": "x"}]})


def test_every_api_route_of_the_app_is_described() -> None:
    """A route added to the app without a spec entry (or the reverse) fails here."""
    from worker.settings import Settings
    from worker.web.app import create_app

    app = create_app(Settings(livekit_url="ws://x", livekit_api_key="k", livekit_api_secret="s"))
    routes = {
        (r.resource.canonical, r.method.lower())
        for r in app.router.routes()
        if r.resource is not None and r.resource.canonical.startswith("/api/") and r.method != "HEAD"
    }
    assert routes == EXPECTED


def test_session_start_describes_its_auth_modes_and_refusals() -> None:
    doc = spec()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["appApiKey"]["scheme"] == "bearer" and schemes["appToken"]["bearerFormat"] == "JWT"
    create = doc["paths"]["/api/session"]["post"]
    assert create["security"] == [{}, {"appApiKey": []}, {"appToken": []}]  # `none` mode needs nothing
    for status in ("401", "403", "429"):
        assert status in create["responses"], status
    for op in (create, doc["paths"]["/api/session/redispatch"]["post"]):
        limited = op["responses"]["429"]
        assert limited["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}
    assert_matches_openapi(
        "/api/session",
        "post",
        429,
        {"error": {"code": "rate_limited", "message": "m; try again in 7 s", "retry_after_s": 7}},
    )
    identity = doc["components"]["schemas"]["SessionRequest"]["properties"]["identity"]
    assert "api-key" in identity["description"]


def test_the_webhooks_section_describes_the_session_event_and_validates_a_real_one() -> None:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    from worker.outbox.envelope import SessionEnded
    from worker.report import SessionRecord

    doc = spec()
    assert set(doc["webhooks"]) == {"sessionEnded", "httpToolCall", "liveEvent"}
    event_op = doc["webhooks"]["sessionEnded"]["post"]
    headers = {p["name"] for p in event_op["parameters"] if p["in"] == "header"}
    assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert {"200", "410"} <= set(event_op["responses"])
    record = SessionRecord(session_id="r:j", room="r", participant="u", role="cook", model="gpt-realtime")
    record.add_line("user", "hello")
    event = SessionEnded(id="evt_1", created_at="2026-12-01T10:00:00.000Z", data=record.finish("crashed", {}))
    registry: Registry[Any] = Registry().with_resource(
        "urn:doc", Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    ref = event_op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    validator = Draft202012Validator({"$ref": "urn:doc" + ref}, registry=registry)
    body = json.loads(event.body())
    assert list(validator.iter_errors(body)) == []
    assert list(validator.iter_errors({**body, "type": "session.started"}))  # a closed set of types
    data = doc["components"]["schemas"]["SessionReport"]["properties"]
    assert {"complete", "role_versions", "analysis", "transcript", "end_reason"} <= set(data)
