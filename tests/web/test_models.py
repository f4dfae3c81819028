"""Request models and `parse_body` (pure)."""

from __future__ import annotations

import json

import pytest

from worker.web.errors import ApiError
from worker.web.models import MAX_VARS, RecipeSearchRequest, SessionRequest, TokenMetadata, parse_body

pytestmark = pytest.mark.unit


def fails(raw: bytes | str, model: type = SessionRequest) -> ApiError:
    with pytest.raises(ApiError) as info:
        parse_body(raw.encode() if isinstance(raw, str) else raw, model)
    return info.value


def test_session_request_accepts_role_and_scalar_vars() -> None:
    req = parse_body(
        b'{"role": "cooking-guide", "vars": {"a": "x", "b": 2, "c": 1.5, "d": true}}', SessionRequest
    )
    assert req.role == "cooking-guide"
    assert req.vars == {"a": "x", "b": 2, "c": 1.5, "d": True}
    # No coercion: a number stays a number and a string stays a string.
    assert type(req.vars["b"]) is int and type(req.vars["d"]) is bool
    assert parse_body(b'{"role": "x"}', SessionRequest).vars == {}


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        ('{"role": "x", "vars": {"n": NaN}}', "NaN is not a JSON number"),
        ('{"role": "x", "vars": {"n": Infinity}}', "Infinity is not a JSON number"),
        ('{"role": "x", "vars": {"n": -Infinity}}', "-Infinity is not a JSON number"),
        ('{"role": "x", "vars": {"n": 1e309}}', "the number 1e309 is out of range"),
        ('{"role": "x", "vars": {"n": -1e400}}', "the number -1e400 is out of range"),
        ('{"query": "x", "max_minutes": NaN}', "NaN is not a JSON number"),
    ],
)
def test_nan_and_infinity_are_refused_with_a_clear_400(raw: str, said: str) -> None:
    """Python's json reads them (and pydantic keeps them); the worker would then refuse the job."""
    model = RecipeSearchRequest if "query" in raw else SessionRequest
    err = fails(raw, model)
    assert (err.status, err.code) == (400, "malformed_json")
    assert err.message == f"the request body is not valid JSON: {said}"


def test_finite_numbers_and_negative_zero_pass() -> None:
    req = parse_body(b'{"role": "x", "vars": {"a": -0, "b": -0.0, "c": 1e308, "d": 2.5e-10}}', SessionRequest)
    assert req.vars == {"a": 0, "b": -0.0, "c": 1e308, "d": 2.5e-10}


def test_models_refuse_non_finite_floats_built_in_code() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        SessionRequest(role="x", vars={"n": float("nan")})
    with pytest.raises(ValidationError):
        TokenMetadata(role="x", vars={"n": float("inf")})


def test_malformed_json_is_400() -> None:
    for raw in ["", "{", '{"role": }', "\xff".encode("latin-1")]:
        err = fails(raw)
        assert (err.status, err.code) == (400, "malformed_json")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], ""),
        ("text", ""),
        ({}, "role"),
        ({"role": 3}, "role"),
        ({"role": ""}, "role"),
        ({"role": "x" * 65}, "role"),
        ({"role": "x", "vars": []}, "vars"),
        ({"role": "x", "vars": {"a": None}}, "vars.a"),
        ({"role": "x", "vars": {"a": {"nested": 1}}}, "vars.a"),
        ({"role": "x", "vars": {"a": [1]}}, "vars.a"),
        ({"role": "x", "extra": 1}, "extra"),
    ],
)
def test_wrong_shapes_are_422_naming_the_field(body: object, field: str) -> None:
    err = fails(json.dumps(body))
    assert (err.status, err.code) == (422, "invalid_request")
    assert err.extra["field"] == field
    assert err.message.startswith(f"{field or '(body)'}: ")


def test_vars_count_is_capped() -> None:
    many = {f"v{i}": "x" for i in range(MAX_VARS + 1)}
    assert fails(json.dumps({"role": "x", "vars": many})).extra["field"] == "vars"


def test_recipe_search_request_mirrors_the_tool_schema() -> None:
    req = parse_body(b'{"query": "pasta"}', RecipeSearchRequest)
    assert (req.diet, req.max_minutes, req.max_results) == ([], None, 3)
    req = parse_body(
        b'{"query": "pasta", "diet": ["vegan"], "max_minutes": null, "max_results": 5}', RecipeSearchRequest
    )
    assert req.diet == ["vegan"]
    for bad, field in [
        ({"query": ""}, "query"),
        ({"query": "x" * 201}, "query"),
        ({"query": "x", "diet": ["paleo"]}, "diet.0"),
        ({"query": "x", "max_minutes": 4}, "max_minutes"),
        ({"query": "x", "max_results": 6}, "max_results"),
        ({"query": "x", "sort": "new"}, "sort"),
    ]:
        assert fails(json.dumps(bad), RecipeSearchRequest).extra["field"] == field


def test_token_metadata_round_trips() -> None:
    meta = TokenMetadata(role="cooking-guide", vars={"user_name": "Ana"})
    assert TokenMetadata.model_validate_json(meta.model_dump_json()) == meta
