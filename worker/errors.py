"""Every error RoleCall raises on purpose is a `RoleCallError`; its `str()` is the line a user reads.

The whole tree (module in brackets, then when it happens)::

    RoleCallError                 root; never raised itself
    ├── ConfigError               the deployment's configuration cannot work (found at start-up)
    │   ├── SettingsError         [settings] environment or .env settings are missing or malformed;
    │   │                         `problems` has one line per setting
    │   └── PriceTableError       [pricing] ROLECALL_PRICES_FILE cannot be read or has a bad entry;
    │                             also a FileError (file:line:column: model.field: message)
    ├── FileError                 a file someone wrote is wrong: file, line, column, field, message, hint;
    │   │                         str() is `file:line:column: field: message (hint: ...)`
    │   ├── RoleError             [roles] a role, fragment or prompt file, or a role lookup or render
    │   │   ├── RoleSyntaxError       the file cannot be read as safe YAML (size, encoding, syntax,
    │   │   │                         duplicate key, tag, alias, YAML 1.1 number surprise)
    │   │   ├── RoleValidationError   a value is wrong (models, tool parameters, prompt files,
    │   │   │                         fragments, templates, handoff targets)
    │   │   ├── UnknownRoleError      a lookup named a role that does not exist; lists the valid names
    │   │   ├── InvalidRoleError      a lookup named a role with no valid version; carries every error
    │   │   └── RoleRenderError       run-time variables were rejected (unknown name, bad type, too long)
    │   ├── ScenarioError         [simulator] a scenario file (`simulate --scenario`) cannot be used
    │   └── EvalFileError         [evals] an eval file cannot be used; `errors` holds every problem
    ├── ProtocolTypesError        [protocol_ts] worker/protocol.py holds a type the generator cannot write
    ├── TypesError                [roles.typescript] `roles types` found invalid role files; `errors`
    ├── RegexError                [roles.regex] RE2 cannot compile a pattern (also a ValueError; the
    │                             role loader reports it as a RoleValidationError)
    ├── DispatchError             [dispatch] a job's dispatch metadata cannot be used
    ├── SignatureError            [signing] an X-RoleCall-Signature is missing, malformed, stale or wrong
    ├── UiEventRefused            [session.ui_events] the page's UI event was refused; `reason` is the
    │                             protocol's EventRefusalReason (the RPC error's data)
    ├── AnalysisFailed            [analysis] a role's post-call analysis has no usable answer (reported)
    ├── UnreadableSpoolFile       [outbox.records] a spool file has no usable start record (dead-lettered)
    ├── CommandFailed             [session.control] the app backend's command cannot be applied
    ├── Refused                   [control.cli] the control API answered `sessions` with an error
    └── ToolFailure               [tools] a tool call failed; the model is told the tool's error_message
        │                         (python tools raise it themselves: `worker.tools.python`)
        ├── FrontendCallError     [tools.frontend] the page's RPC handler failed, timed out or is missing
        ├── HttpToolError         [tools.http] an http tool's request was refused or failed
        ├── StreamProblem         [tools.ndjson] an http tool's streamed answer is not progress lines
        │                         followed by one result
        └── McpToolError          [tools.mcp.connection] an MCP server was unreachable or refused a call

Outside the tree, on purpose (`tests/worker/test_errors.py` lists them): wire encodings, which are
answers rather than failures of RoleCall (`web.errors.ApiError`, an HTTP error response;
`simulator.events.ProtocolError`, an OpenAI `error` event), and internal signals that never reach a
user as such (`simulator.response.ConnectionGone`, `bodies.BodyTooLarge`, `tools.egress.EgressRefused`,
an `OSError` because aiohttp expects one from a resolver).

This module imports nothing from RoleCall, so every package (the leaves included) can build on it.
"""

from __future__ import annotations

import typing

__all__ = ["ConfigError", "FileError", "RoleCallError"]


class RoleCallError(Exception):
    """Root of every error RoleCall raises on purpose."""


class ConfigError(RoleCallError):
    """The deployment's configuration cannot work; reported when the process starts."""


class FileError(RoleCallError):
    """A problem in a file someone wrote, located as precisely as we know (`line`/`column` are 1-based)."""

    unnamed: typing.ClassVar[str] = "<file>"
    """What `location` shows when `file` is empty."""

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
        parts = [self.file or self.unnamed]
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
