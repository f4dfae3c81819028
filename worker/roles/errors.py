"""Errors raised while loading, looking up and rendering roles.

Nothing but a `RoleError` leaves loading, lookup and rendering, whatever the input::

    RoleError                 a FileError (file, line, column, field, message, hint); str() is what users read
    ├── RoleSyntaxError       the file cannot be read as safe YAML (size, encoding, syntax, duplicate key,
    │                         tag, alias, YAML 1.1 number surprise)
    ├── RoleValidationError   a value is wrong (models, tool parameters, prompt files, fragments, templates,
    │                         handoff targets)
    ├── UnknownRoleError      a lookup named a role that does not exist; lists the valid names
    ├── InvalidRoleError      a lookup named a role that has no valid version; carries every error
    └── RoleRenderError       run-time variables were rejected (unknown name, bad type, too long)

The package-wide tree, of which this is one branch, is drawn in `worker.errors`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from worker.errors import FileError


class RoleError(FileError):
    """A problem with a role, located as precisely as we know (`line`/`column` are 1-based)."""

    unnamed: ClassVar[str] = "<role>"


class RoleSyntaxError(RoleError):
    """The file is not acceptable YAML (before any field is looked at)."""


class RoleValidationError(RoleError):
    """A field has a wrong value, or a reference (prompt file, fragment, handoff target) is broken."""


class UnknownRoleError(RoleError):
    """No role of that name; `valid` lists the names that exist."""

    def __init__(self, name: str, valid: Sequence[str], *, file: str = "") -> None:
        self.name = name
        self.valid = list(valid)
        hint = "valid roles: " + (", ".join(self.valid) if self.valid else "(none)")
        super().__init__(f"unknown role {name!r}", file=file, field="role", hint=hint)


class InvalidRoleError(RoleError):
    """The role exists but has never loaded successfully; `errors` holds every problem found."""

    def __init__(self, name: str, errors: Sequence[RoleError], *, file: str = "") -> None:
        self.name = name
        self.errors = list(errors)
        first = str(self.errors[0]) if self.errors else "no details"
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__(f"role {name!r} is invalid: {first}{more}", file=file, field="role")


class RoleRenderError(RoleError):
    """Variables passed at run time (dispatch metadata `vars`) were rejected."""
