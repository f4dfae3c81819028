"""JSON Schemas of the role and fragment file formats, generated from the models (for editors)."""

from __future__ import annotations

import json
from typing import Any, Literal

from worker.roles.models import FragmentFile, RoleFile

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILES = {"role": "role.schema.json", "fragment": "fragment.schema.json"}
"""Where the committed copies live, relative to the roles directory."""


def json_schema(kind: Literal["role", "fragment"] = "role") -> dict[str, Any]:
    """The JSON Schema of a role file (or of a fragment file)."""
    model = RoleFile if kind == "role" else FragmentFile
    return {"$schema": DIALECT, **model.model_json_schema()}


def schema_text(kind: Literal["role", "fragment"] = "role") -> str:
    """`json_schema(kind)` as the text we commit (stable key order, trailing newline)."""
    return json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n"
