"""Schemas from elsewhere (MCP servers, type hints) as tool parameters: annotations dropped, local
`$ref`s written out, and then the same checks as a role file's `parameters`."""

from __future__ import annotations

import pytest

from worker.roles.schema_import import imported

pytestmark = pytest.mark.unit


def test_annotations_are_dropped_but_a_property_named_like_one_is_kept() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "searchArguments",
        "type": "object",
        "properties": {
            "title": {"type": "string", "title": "Title", "examples": ["Soup"]},
            "limit": {"type": "integer", "title": "Limit", "default": 3, "deprecated": False},
        },
        "required": ["title"],
    }
    assert imported(schema) == (
        {
            "type": "object",
            "properties": {"title": {"type": "string"}, "limit": {"type": "integer", "default": 3}},
            "required": ["title"],
        },
        [],
    )


def test_local_refs_are_written_out_with_their_siblings() -> None:
    schema = {
        "type": "object",
        "properties": {
            "dish": {"$ref": "#/$defs/Dish", "description": "The dish."},
            "side": {"allOf": [{"$ref": "#/definitions/Side"}], "description": "A side."},
        },
        "$defs": {"Dish": {"type": "string", "enum": ["soup", "stew"], "title": "Dish"}},
        "definitions": {"Side": {"type": "object", "properties": {"name": {"type": "string"}}}},
    }
    parameters, problems = imported(schema)
    assert problems == []
    assert parameters["properties"] == {
        "dish": {"type": "string", "enum": ["soup", "stew"], "description": "The dish."},
        "side": {"type": "object", "properties": {"name": {"type": "string"}}, "description": "A side."},
    }


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        (
            {
                "type": "object",
                "properties": {"n": {"$ref": "#/$defs/N"}},
                "$defs": {"N": {"$ref": "#/$defs/N"}},
            },
            "$ref #/$defs/N: refers to itself, so it cannot be written out for the model",
        ),
        (
            {"type": "object", "properties": {"n": {"$ref": "https://example.com/n.json"}}},
            "$ref https://example.com/n.json: is not a local definition, so it cannot be written out for the model",
        ),
        (
            {"type": "object", "properties": {"n": {"type": "integer", "exclusiveMinimum": 0}}},
            "properties.n.exclusiveMinimum: keyword 'exclusiveMinimum' is not supported by OpenAI function calling",
        ),
        (
            {"type": "array"},
            "type: expected type: object at the top level (function arguments are an object), "
            "found type 'array'",
        ),
        ("not a schema", "(schema): expected a JSON Schema object, found str"),
    ],
)
def test_what_openai_would_not_take_is_a_problem_with_its_path(schema: object, problem: str) -> None:
    assert problem in imported(schema)[1]
