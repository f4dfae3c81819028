"""Role files: one voice agent role per YAML file, validated, explained and reloaded live.

    from worker.roles import RoleRegistry, UnknownRoleError

    registry = RoleRegistry("roles", policy=settings.role_policy())   # or $ROLECALL_ROLES_DIR
    role = registry.get("cooking-guide")      # latest valid version; raises RoleError subclasses
    rendered = role.render({"user_name": "Ana"})

Errors are a small hierarchy rooted at `RoleError` (see `worker.roles.errors`), one branch of the
package's tree (`worker.errors`).
"""

from worker.roles.errors import (
    InvalidRoleError,
    RoleError,
    RoleRenderError,
    RoleSyntaxError,
    RoleValidationError,
    UnknownRoleError,
)
from worker.roles.loader import CheckReport, LoadResult, RoleLoader, check_dir
from worker.roles.models import (
    BUILTINS,
    VOICES,
    BuiltinTool,
    FrontendTool,
    Greeting,
    HandoffTool,
    HttpTool,
    InputTranscription,
    Limits,
    McpServer,
    McpTool,
    ModelSettings,
    PythonTool,
    RenderedRole,
    Role,
    SemanticVad,
    ServerVad,
    UiEvent,
    Variable,
)
from worker.roles.policy import RolePolicy
from worker.roles.registry import RoleChange, RoleRegistry, RoleSummary, default_roles_dir
from worker.roles.schema import json_schema

__all__ = [
    "BUILTINS",
    "VOICES",
    "BuiltinTool",
    "CheckReport",
    "FrontendTool",
    "Greeting",
    "HandoffTool",
    "HttpTool",
    "InputTranscription",
    "InvalidRoleError",
    "Limits",
    "LoadResult",
    "McpServer",
    "McpTool",
    "ModelSettings",
    "PythonTool",
    "RenderedRole",
    "Role",
    "RoleChange",
    "RoleError",
    "RoleLoader",
    "RolePolicy",
    "RoleRegistry",
    "RoleRenderError",
    "RoleSummary",
    "RoleSyntaxError",
    "RoleValidationError",
    "SemanticVad",
    "ServerVad",
    "UiEvent",
    "UnknownRoleError",
    "Variable",
    "check_dir",
    "default_roles_dir",
    "json_schema",
]
