"""What every role file model shares: the name rules, the strict base model, the deployment's policy."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo

from worker.roles.policy import RolePolicy

ROLE_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"
"""Role and fragment names: also their file stems."""
TOOL_NAME = r"^[a-zA-Z0-9_-]{1,64}$"
"""What OpenAI function calling accepts as a function name."""
VARIABLE_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
ENV_NAME = r"^[A-Z_][A-Z0-9_]{0,127}$"

RoleName = Annotated[str, Field(pattern=ROLE_NAME)]


class FileModel(BaseModel):
    """A mapping in a role or fragment file: strict types, unknown keys refused, documented fields."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, use_attribute_docstrings=True, allow_inf_nan=False
    )


def policy_of(info: ValidationInfo) -> RolePolicy | None:
    """The deployment's policy, when the loader validates with `context={"policy": ...}`."""
    policy = info.context.get("policy") if isinstance(info.context, dict) else None
    return policy if isinstance(policy, RolePolicy) else None
