"""Tools a role offers the model, one model per kind: frontend (the page, over RPC), http, handoff, builtin,
python (a function of the worker's environment) and mcp (a server's tools; `McpTool` is one of them).

Their URLs, headers and secrets are checked against the deployment's `RolePolicy` when the loader
passes one in the validation context (`worker.roles._base.policy_of`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator
from pydantic import model_validator as _model_validator

from worker.roles._base import ENV_NAME, TOOL_NAME, FileModel, RoleName, policy_of
from worker.roles.policy import is_worker_header, reserved_env, reserved_env_message
from worker.roles.tool_modes import Duplicate, Progress, ToolMode, check_tool_modes
from worker.yamlfile import hinted

BUILTINS = ("end_session",)
"""Tools shipped with the worker."""
RPC_METHOD_MAX_BYTES = 64
"""LiveKit's limit on RPC method names."""

_ENV_REF = re.compile(r"\$\{([^}]*)\}")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_SENSITIVE_HEADER = re.compile(r"authorization|cookie|token|secret|api[-_]?key|password", re.IGNORECASE)
_DEFAULT_ERROR_MESSAGE = (
    "The tool failed. Tell the user in one short sentence that it did not work, then offer to try again "
    "or to continue without it."
)


def _default_parameters() -> dict[str, Any]:
    return {"type": "object", "properties": {}}


class _Tool(FileModel):
    name: str = Field(pattern=TOOL_NAME)
    """Function name the model calls; unique within the role (fragments included)."""
    description: str = Field(min_length=1, max_length=1024)
    """When and why the model should call it; the model reads this."""
    parameters: dict[str, Any] = Field(default_factory=_default_parameters)
    """JSON Schema (object) of the arguments, limited to what OpenAI function calling accepts."""
    error_message: str = Field(_DEFAULT_ERROR_MESSAGE, min_length=1, max_length=500)
    """What the model is told when the tool fails (so it can say something useful)."""
    mode: ToolMode = "foreground"
    """foreground: the agent waits for the answer; background: it goes on talking, and the answer
    reaches the model when it is ready (http and frontend tools)."""
    progress: Progress | None = None
    """What the agent says while the tool runs: after `after_ms` without an answer, and the updates
    the tool sends (`updates: true`)."""
    duplicate: Duplicate = "allow"
    """A call while one of this tool is running: allow, reject (the model is told), or replace
    (cancels the running one; background tools only)."""
    show_arguments: bool = False
    """Send the call's arguments to the page with its tool activity (they may hold what the user
    said); off: the page sees the name, kind, status and duration only."""

    @_model_validator(mode="after")
    def _check_modes(self) -> _Tool:
        check_tool_modes(str(getattr(self, "kind", "")), self.mode, self.progress, self.duplicate)
        return self


class FrontendTool(_Tool):
    """Calls the user's browser over LiveKit RPC; the page's handler returns JSON."""

    kind: Literal["frontend"]
    rpc_method: str | None = Field(None, min_length=1)
    """RPC method name (at most 64 bytes); defaults to the tool name."""
    timeout_s: float = Field(10.0, gt=0, le=60)
    """Seconds to wait for the page's reply."""

    @field_validator("rpc_method")
    @classmethod
    def _method_bytes(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode()) > RPC_METHOD_MAX_BYTES:
            raise ValueError(f"expected at most {RPC_METHOD_MAX_BYTES} bytes, found {len(value.encode())}")
        return value

    @property
    def method(self) -> str:
        """The RPC method to call."""
        return self.rpc_method or self.name


def _check_header_name(name: str) -> str:
    if not _HEADER_NAME.match(name):
        raise ValueError(f"header name {name!r} is not a valid HTTP header name")
    if is_worker_header(name):
        raise ValueError(f"header {name} is set by the worker and cannot be configured")
    return name


_ENV_HINT = (
    "use a name the operator allows (ROLECALL_TOOL_ENV), e.g. TOOL_..., or ask the operator to allow this one"
)


def _check_header_value(value: str, info: ValidationInfo) -> str:
    refs = _ENV_REF.findall(value)
    if any(not re.fullmatch(ENV_NAME, ref) for ref in refs) or value.replace("$$", "").count("$") != len(
        refs
    ):
        raise ValueError("write environment references as ${NAME} (A-Z, 0-9, _)")
    for ref in refs:
        if reserved_env(ref):
            raise ValueError(reserved_env_message(ref))
    policy = policy_of(info)
    for ref in dict.fromkeys(refs):
        problem = policy.env_problem(ref) if policy is not None else None
        if problem:
            raise hinted(problem, _ENV_HINT)
    return value


HeaderName = Annotated[str, AfterValidator(_check_header_name)]
HeaderValue = Annotated[str, AfterValidator(_check_header_value)]


def _check_tool_url(value: str, info: ValidationInfo, what: str) -> str:
    """A tool's fixed URL: http(s) with a host and no credentials, or a path on the app backend."""
    if value.startswith("/") and not value.startswith("//"):
        if any(c.isspace() for c in value) or urlsplit(value).fragment:
            raise ValueError("expected a path like /api/recipes/search (no spaces, no #fragment)")
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"expected an http:// or https:// URL, found scheme {parts.scheme or '(none)'!r}")
    if not parts.hostname:
        raise ValueError(
            "expected a URL with a host (https://api.example.com/recipes) or a path on the app "
            "backend (/api/recipes)"
        )
    if parts.username or parts.password:
        raise ValueError("credentials in the URL are not allowed; use headers with ${ENV_NAME}")
    policy = policy_of(info)
    problem = policy.host_problem(parts.hostname) if policy is not None else None
    if problem:
        raise hinted(
            f"{problem}; {what} do not call loopback, private, link-local or other non-public "
            "addresses on this worker",
            "if this worker should call it, the operator lists the host in ROLECALL_HTTP_PRIVATE_HOSTS",
        )
    return value


def _check_credential_headers(value: dict[str, str]) -> dict[str, str]:
    """Refuse a header that looks like a credential written out instead of referenced."""
    for name, header in value.items():
        refs = _ENV_REF.findall(header)
        if _SENSITIVE_HEADER.search(name) and not refs:
            raise ValueError(
                f"header {name} looks like a credential; reference an environment variable "
                f"instead of writing the value, e.g. {name}: Bearer ${{API_TOKEN}}"
            )
    return value


class HttpTool(_Tool):
    """POSTs the validated arguments as JSON to a fixed URL, signed with an HMAC of the body."""

    kind: Literal["http"]
    url: str = Field(min_length=1)
    """http or https URL, fixed here (never built from model output); or a path (`/api/...`) on the
    app backend named by the worker's `ROLECALL_APP_URL`."""
    secret_env: str | None = None
    """NAME of the environment variable holding the HMAC signing secret (never the secret itself):
    ROLECALL_TOOL_SECRET, or a name the operator allows (ROLECALL_TOOL_ENV, default TOOL_*)."""
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict)
    """Static request headers; values may reference environment variables as ${NAME}, for names the
    operator allows (ROLECALL_TOOL_ENV, default TOOL_*); never User-Agent or X-RoleCall-* headers."""
    max_response_bytes: int = Field(65536, ge=1, le=1048576)
    """Larger responses are cut off and the call fails."""
    allowed_hosts: list[str] | None = None
    """If given, the URL's host must be one of these."""
    timeout_s: float = Field(10.0, gt=0, le=60)
    """Seconds for the whole request."""

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str, info: ValidationInfo) -> str:
        return _check_tool_url(value, info, "http tools")

    @field_validator("secret_env")
    @classmethod
    def _check_secret_env(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not re.fullmatch(ENV_NAME, value):
            raise ValueError(
                "expected the NAME of an environment variable (like RECIPES_SECRET), found something else; "
                "if that was the secret itself, remove it from the file, put it in the environment and name "
                "the variable here"
            )
        if value is not None and reserved_env(value, signing=True):
            raise ValueError(reserved_env_message(value, signing=True))
        policy = policy_of(info)
        problem = policy.env_problem(value, signing=True) if policy is not None and value else None
        if problem:
            raise hinted(problem, _ENV_HINT)
        return value

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_credential_headers(value)

    @_model_validator(mode="after")
    def _check_allowed_hosts(self) -> HttpTool:
        host = urlsplit(self.url).hostname
        if host is None:
            return self  # a path: the host is the app backend's, checked when the tool is called
        if self.allowed_hosts is not None and host not in self.allowed_hosts:
            raise ValueError(f"url host {host!r} is not in allowed_hosts ({', '.join(self.allowed_hosts)})")
        return self

    def env_names(self) -> list[str]:
        """Environment variables this tool reads (secret and header references)."""
        names = [self.secret_env] if self.secret_env else []
        for header in self.headers.values():
            names.extend(_ENV_REF.findall(header))
        return names


def _handoff_parameters() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "summary": {
                "type": "string",
                "description": "One or two sentences for the next agent: who the user is and what they want.",
            }
        },
        "required": ["summary"],
    }


class HandoffTool(_Tool):
    """Switches the session to another role (its instructions and tools), keeping the conversation."""

    kind: Literal["handoff"]
    target: RoleName
    """The role to hand over to; must exist in the roles directory."""
    message: str | None = Field(None, min_length=1)
    """Instructions for what the agent says as it hands over, e.g. Tell the user the sommelier is joining."""
    history: Literal["full", "none"] = "full"
    """Whether the next role sees the conversation so far (full) or only the handoff arguments (none)."""
    parameters: dict[str, Any] = Field(default_factory=_handoff_parameters)
    """Arguments passed to the next role; by default a required `summary` string."""
    timeout_s: float = Field(5.0, gt=0, le=60)
    """Seconds allowed for the switch."""


class BuiltinTool(_Tool):
    """A tool implemented by the worker itself."""

    kind: Literal["builtin"]
    builtin: Literal["end_session"]
    """Which built-in: end_session ends the call after the agent's goodbye."""
    timeout_s: float = Field(5.0, gt=0, le=60)
    """Seconds allowed."""


PYTHON_FUNCTION = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$"
"""`package.module:name` of a python tool's function."""
MCP_TOOL_NAME = r"^[A-Za-z0-9_./-]{1,128}$"
"""A tool's name on an MCP server (the MCP specification's characters)."""


class PythonTool(_Tool):
    """Awaits an `async def` of the worker's environment with the validated arguments."""

    kind: Literal["python"]
    function: str = Field(pattern=PYTHON_FUNCTION)
    """`package.module:name` of an async function, in a module under a prefix the operator allows
    (ROLECALL_PYTHON_TOOL_MODULES); without `parameters`, they come from its type hints."""
    max_result_bytes: int = Field(65536, ge=1, le=1048576)
    """A longer result (as JSON) fails the call."""
    timeout_s: float = Field(10.0, gt=0, le=60)
    """Seconds the function may run."""

    @field_validator("function")
    @classmethod
    def _check_module(cls, value: str, info: ValidationInfo) -> str:
        policy = policy_of(info)
        problem = policy.module_problem(value.partition(":")[0]) if policy is not None else None
        if problem:
            raise hinted(problem, "the operator lists it (or a parent) in ROLECALL_PYTHON_TOOL_MODULES")
        return value


def _tool_choice(value: Any) -> Any:
    return {"tool": value} if isinstance(value, str) else value


class McpToolChoice(FileModel):
    """One tool of the server, offered to the model (a plain string: the tool, under its own name)."""

    tool: str = Field(pattern=MCP_TOOL_NAME)
    """The tool's name on the server."""
    name: str | None = Field(None, pattern=TOOL_NAME)
    """The name the model calls it by; default: the server's name."""
    description: str | None = Field(None, min_length=1, max_length=1024)
    """Replaces the server's description of the tool (the model reads this)."""

    @_model_validator(mode="after")
    def _callable_name(self) -> McpToolChoice:
        if self.name is None and not re.fullmatch(TOOL_NAME, self.tool):
            raise hinted(
                f"the model cannot call a function named {self.tool!r}",
                f"name it for the model (letters, digits, _, -): {{tool: {self.tool}, name: ...}}",
            )
        return self


class McpServer(FileModel):
    """Offers tools of an MCP server (streamable HTTP or SSE): only the ones listed under `tools`."""

    kind: Literal["mcp"]
    server: RoleName
    """A short name for the server, in the log, the session report and what the model is told."""
    url: str = Field(min_length=1)
    """http or https URL of the server's endpoint (e.g. https://tools.example.com/mcp), or a path on
    the app backend (`/mcp`, on ROLECALL_APP_URL)."""
    transport: Literal["streamable-http", "sse"] = "streamable-http"
    """streamable-http (the current MCP transport) or sse (the older one, still served by many)."""
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict)
    """Static request headers; values may reference environment variables as ${NAME}, for names the
    operator allows (ROLECALL_TOOL_ENV, default TOOL_*)."""
    tools: list[
        Annotated[McpToolChoice, BeforeValidator(_tool_choice, json_schema_input_type=str | McpToolChoice)]
    ] = Field(min_length=1)
    """The server's tools the model is offered, e.g. [search_recipes, {tool: get_recipe, name: recipe}];
    no other tool of the server is."""
    timeout_s: float = Field(10.0, gt=0, le=60)
    """Seconds for connecting, listing, and each call."""
    max_result_chars: int = Field(16000, ge=100, le=1000000)
    """A longer result is cut to this many characters (the model is told it was cut)."""
    error_message: str = Field(_DEFAULT_ERROR_MESSAGE, min_length=1, max_length=500)
    """What the model is told when one of its tools fails."""

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str, info: ValidationInfo) -> str:
        return _check_tool_url(value, info, "MCP servers")

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_credential_headers(value)

    def env_names(self) -> list[str]:
        """Environment variables this server's headers read."""
        return [ref for header in self.headers.values() for ref in _ENV_REF.findall(header)]


class Origin(FileModel):
    """Where something was written: for messages about it after loading."""

    file: str
    line: int
    column: int
    field: str


class McpTool(_Tool):
    """One tool of an MCP server as a role offers it; the loader makes one per entry of a `kind: mcp`
    block. Its description and parameters are the server's, known once a session lists the server."""

    kind: Literal["mcp"]
    server: McpServer
    tool: str
    """The tool's name on the server (`name` is the model's)."""
    described: bool = False
    """True when the role gives the description (the server's is not used)."""
    timeout_s: float = Field(10.0, gt=0, le=60)
    origin: Origin | None = None
    """The allowlist entry in the role or fragment file."""


Tool = Annotated[
    FrontendTool | HttpTool | HandoffTool | BuiltinTool | PythonTool | McpServer, Field(discriminator="kind")
]
TOOL_KINDS = ("frontend", "http", "handoff", "builtin", "python", "mcp")
RoleTool = FrontendTool | HttpTool | HandoffTool | BuiltinTool | PythonTool | McpTool
"""A tool of a loaded role: an `mcp` block has become one `McpTool` per allowlisted tool."""
