"""Errors raised while loading, looking up and rendering roles.

Nothing but a `RoleError` leaves this package, whatever the input::

    RoleError                 base: file, line, column, field, message, hint; str() is the user-facing line
    ├── RoleSyntaxError       the file cannot be read as safe YAML (size, encoding, syntax, duplicate key,
    │                         tag, alias, YAML 1.1 number surprise)
    ├── RoleValidationError   a value is wrong (models, tool parameters, prompt files, fragments, templates,
    │                         handoff targets)
    ├── UnknownRoleError      a lookup named a role that does not exist; lists the valid names
    ├── InvalidRoleError      a lookup named a role that has no valid version; carries every error
    └── RoleRenderError       run-time variables were rejected (unknown name, bad type, too long)
"""

from __future__ import annotations

from collections.abc import Sequence


class RoleError(Exception):
    """A problem with a role, located as precisely as we know (`line`/`column` are 1-based)."""

    def __init__(
        self,
        message: str,
        *,
        file: str = "",
        line: int | None = None,
        column: int | None = None,
        field: str = "",
        hint: str = "",
    ) -> None:
        super().__init__(message)
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
        self.hint = hint

    @property
    def location(self) -> str:
        """`file:line:column`, or as much of it as is known."""
        parts = [self.file or "<role>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        text = f"{self.location}: "
        if self.field:
            text += f"{self.field}: "
        text += self.message
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and str(other) == str(self)

    def __hash__(self) -> int:
        return hash((type(self), str(self)))


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
