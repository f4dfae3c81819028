"""The dispatch metadata contract between the web backend and the worker.

The backend creates an explicit dispatch for agent `rolecall` whose metadata is the JSON of a
`DispatchRequest`. The browser never writes it: the backend fills it after checking the role.
"""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from worker.errors import RoleCallError


class DispatchError(RoleCallError):
    """The dispatch metadata cannot be used; the message says why."""


class DispatchRequest(BaseModel):
    """What a job is asked to do."""

    model_config = ConfigDict(extra="forbid")

    role: str = Field(
        default="", max_length=64, description="role name; empty means the worker's default role"
    )
    vars: dict[str, str | int | float | bool] = Field(default_factory=dict, description="template variables")
    participant: str = Field(default="", max_length=256, description="identity of the user to serve")
    summary: str = Field(default="", max_length=4000, description="conversation so far, when re-dispatched")
    trace: dict[str, Annotated[str, Field(max_length=512)]] = Field(
        default_factory=dict,
        max_length=4,
        description="the web backend's trace context (W3C traceparent, tracestate), when traces are on",
    )

    @classmethod
    def parse(cls, metadata: str) -> DispatchRequest:
        """Parse job metadata; empty metadata is an empty request."""
        if not metadata.strip():
            return cls()
        try:
            raw = json.loads(metadata)
        except json.JSONDecodeError as exc:
            raise DispatchError(f"dispatch metadata is not JSON: {exc.msg} at position {exc.pos}") from None
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(metadata)"
            raise DispatchError(f"dispatch metadata: {where}: {first['msg']}") from None

    def to_metadata(self) -> str:
        return self.model_dump_json(exclude_defaults=True)
