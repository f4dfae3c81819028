"""Worker and web settings, read from the environment and `.env`.

Every setting is a field below with its environment variable and default in the docstring under it.
`Settings.load()` reads them all and reports every missing or malformed one by name in a single
`SettingsError`, so a misconfigured deployment fails at start-up with a message, not a stack trace.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import dotenv_values

from worker.errors import ConfigError

if typing.TYPE_CHECKING:
    from worker.roles.policy import RolePolicy


class SettingsError(ConfigError):
    """One or more settings are missing or malformed; `problems` lists one line per setting."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid settings:\n  " + "\n  ".join(problems))


def _env(name: str) -> dict[str, Any]:
    return {"env": name}


@dataclass(frozen=True)
class Settings:
    """Everything the worker and the web backend read from their environment."""

    livekit_url: str = field(default="", metadata=_env("LIVEKIT_URL"))
    """WebSocket URL of the LiveKit server, e.g. `ws://localhost:7880`. Required. Env: `LIVEKIT_URL`."""

    livekit_api_key: str = field(default="", metadata=_env("LIVEKIT_API_KEY"))
    """API key for the LiveKit server. Required. Env: `LIVEKIT_API_KEY`."""

    livekit_api_secret: str = field(default="", repr=False, metadata=_env("LIVEKIT_API_SECRET"))
    """API secret for the LiveKit server. Required; never logged. Env: `LIVEKIT_API_SECRET`."""

    openai_api_key: str = field(default="", repr=False, metadata=_env("OPENAI_API_KEY"))
    """OpenAI key. Required unless `OPENAI_BASE_URL` points at the simulator, which accepts any
    key. Never logged, never sent to a browser. Env: `OPENAI_API_KEY`."""

    openai_base_url: str = field(default="", metadata=_env("OPENAI_BASE_URL"))
    """Base URL of the Realtime API; empty means OpenAI itself. Point it at the simulator with
    `http://127.0.0.1:8765/v1`. Env: `OPENAI_BASE_URL`."""

    agent_name: str = field(default="rolecall", metadata=_env("ROLECALL_AGENT_NAME"))
    """Agent name the worker registers for explicit dispatch. Default `rolecall`.
    Env: `ROLECALL_AGENT_NAME`."""

    roles_dir: Path = field(default=Path("roles"), metadata=_env("ROLECALL_ROLES_DIR"))
    """Folder of role files. Default `roles`. Env: `ROLECALL_ROLES_DIR`."""

    default_role: str = field(default="", metadata=_env("ROLECALL_DEFAULT_ROLE"))
    """Role used when a dispatch names none; empty means such a dispatch is refused.
    Env: `ROLECALL_DEFAULT_ROLE`."""

    participant_timeout_s: float = field(default=10.0, metadata=_env("ROLECALL_PARTICIPANT_TIMEOUT_S"))
    """How long a job waits for its user to join before ending; the job's model connection and slot
    are given back then, so a session started and never joined costs little. Default 10. Env:
    `ROLECALL_PARTICIPANT_TIMEOUT_S`."""

    disconnect_grace_s: float = field(default=10.0, metadata=_env("ROLECALL_DISCONNECT_GRACE_S"))
    """How long a session survives its user leaving (to allow a reconnect). Default 10.
    Env: `ROLECALL_DISCONNECT_GRACE_S`."""

    live_reload: bool | None = field(default=None, metadata=_env("ROLECALL_LIVE_RELOAD"))
    """Apply role file edits to running sessions. Default: on under `dev`, off under `start`.
    Env: `ROLECALL_LIVE_RELOAD` (`true`/`false`)."""

    drain_timeout_s: int = field(default=600, metadata=_env("ROLECALL_DRAIN_TIMEOUT_S"))
    """On SIGTERM, how long active sessions may run on before the worker exits. Default 600.
    Env: `ROLECALL_DRAIN_TIMEOUT_S`."""

    max_sessions: int = field(default=20, metadata=_env("ROLECALL_MAX_SESSIONS"))
    """Sessions one worker process runs at most; its reported load is active sessions over this
    (measure it with `make bench`). Default 20. Env: `ROLECALL_MAX_SESSIONS`."""

    audio_input_chunk_ms: int = field(default=20, metadata=_env("ROLECALL_AUDIO_INPUT_CHUNK_MS"))
    """Milliseconds of user audio per `input_audio_buffer.append` sent to the model (10-100, a
    multiple of 10). Default 20: speech reaches the model about 40 ms sooner than with livekit-agents'
    own 100 ms chunks (`make bench`), for more, smaller WebSocket messages; see README, 'Benchmarks'.
    Env: `ROLECALL_AUDIO_INPUT_CHUNK_MS`."""

    idle_processes: int | None = field(default=None, metadata=_env("ROLECALL_IDLE_PROCESSES"))
    """Warm job processes kept ready under `start`, so a dispatch does not wait for a process to
    start (`dev` keeps 1); livekit-agents lowers it as the load nears capacity. The worker registers
    once they are up. Default: a fifth of ROLECALL_MAX_SESSIONS, at least 2 (`warm_processes`).
    Env: `ROLECALL_IDLE_PROCESSES`."""

    model_preopen: bool = field(default=True, metadata=_env("ROLECALL_MODEL_PREOPEN"))
    """Idle job processes hold an open model connection for the roles' models, so a job's first
    message to the model is its `session.update` (no handshake before the greeting). Default `true`.
    Env: `ROLECALL_MODEL_PREOPEN` (`true`/`false`)."""

    model_preopen_max_age_s: float = field(default=600.0, metadata=_env("ROLECALL_MODEL_PREOPEN_MAX_AGE_S"))
    """Seconds an unused pre-opened model connection is kept before it is closed and reopened (its
    session clock runs from the handshake; OpenAI ends sessions at 60 minutes). Default 600.
    Env: `ROLECALL_MODEL_PREOPEN_MAX_AGE_S`."""

    job_executor: str = field(default="process", metadata=_env("ROLECALL_JOB_EXECUTOR"))
    """How sessions run: `process` (livekit-agents' default, one process per session: isolated, about
    60 MB PSS each) or `thread` (sessions share the worker's job process: less memory and CPU per
    session, one Python interpreter for all; see README, 'Benchmarks'). Default `process`.
    Env: `ROLECALL_JOB_EXECUTOR`."""

    auto_gain_control: bool = field(default=False, metadata=_env("ROLECALL_AUTO_GAIN_CONTROL"))
    """Run WebRTC's automatic gain control on the user's audio in the worker. Off by default: browsers
    (and livekit-client's default capture options) already apply it to the microphone, and a second
    pass costs CPU per session. Turn it on for clients that send raw audio. Default `false`.
    Env: `ROLECALL_AUTO_GAIN_CONTROL`."""

    health_port: int = field(default=8081, metadata=_env("ROLECALL_HEALTH_PORT"))
    """Port of the worker's health endpoint under `start` (`0` picks a free one). Default 8081.
    Env: `ROLECALL_HEALTH_PORT`."""

    health_host: str = field(default="127.0.0.1", metadata=_env("ROLECALL_HEALTH_HOST"))
    """Interface the worker's health endpoint binds. Default `127.0.0.1` (a healthcheck run inside the
    container, as compose does, reaches it); `0.0.0.0` for probes from outside (Kubernetes).
    livekit-agents' own status server always binds loopback. Env: `ROLECALL_HEALTH_HOST`."""

    livekit_max_retry: int = field(default=16, metadata=_env("ROLECALL_LIVEKIT_MAX_RETRY"))
    """Connection attempts to LiveKit before the worker gives up and exits with status 1 (so a
    supervisor restarts it). Default 16 (livekit-agents' own, about two minutes).
    Env: `ROLECALL_LIVEKIT_MAX_RETRY`."""

    chat_max_chars: int = field(default=2000, metadata=_env("ROLECALL_CHAT_MAX_CHARS"))
    """Longest typed message (`lk.chat`) a session takes, in characters; a longer one is dropped unread
    past the limit and the page is told. Default 2000. Env: `ROLECALL_CHAT_MAX_CHARS`."""

    session_host_identity: str = field(default="", metadata=_env("ROLECALL_SESSION_HOST_IDENTITY"))
    """Off by default. The identity of one operator participant (LiveKit's agent console or debugger)
    that may inspect and drive sessions over livekit-agents' session host (topic `lk.agent.session`:
    instructions, chat history, injected turns). Never a user: identities starting with `user-` (the
    web backend's) are refused. Env: `ROLECALL_SESSION_HOST_IDENTITY`."""

    webhook_url: str = field(default="", metadata=_env("ROLECALL_WEBHOOK_URL"))
    """If set, every session's report is POSTed here as a `session.ended` event (Standard Webhooks),
    from the worker's main process, retried until delivered. Env: `ROLECALL_WEBHOOK_URL`."""

    webhook_secret: str = field(default="", repr=False, metadata=_env("ROLECALL_WEBHOOK_SECRET"))
    """The webhook's signing secret: `whsec_` + base64 of 24-64 random bytes (Standard Webhooks'
    form; `python -m worker reports secret` makes one), or any text of 16+ characters used as the key's
    bytes. Required with a webhook URL; never logged. Env: `ROLECALL_WEBHOOK_SECRET`."""

    webhook_secret_previous: str = field(
        default="", repr=False, metadata=_env("ROLECALL_WEBHOOK_SECRET_PREVIOUS")
    )
    """While rotating: the old secret. Events are then signed with both, so receivers still holding it
    keep verifying; remove it once they all have the new one. Never logged.
    Env: `ROLECALL_WEBHOOK_SECRET_PREVIOUS`."""

    webhook_retry_s: str = field(default="5,30,120,600,3600,21600", metadata=_env("ROLECALL_WEBHOOK_RETRY_S"))
    """Seconds between delivery attempts, comma-separated; the last repeats. Default
    `5,30,120,600,3600,21600`: at once, after 5 s, 30 s, 2 min, 10 min, 1 h, then every 6 h.
    Env: `ROLECALL_WEBHOOK_RETRY_S`."""

    webhook_give_up_s: float = field(default=259200.0, metadata=_env("ROLECALL_WEBHOOK_GIVE_UP_S"))
    """How long after the first attempt the last may be; then the report moves to the spool's `dead/`
    folder with an ERROR log line. Default 259200 (3 days). Env: `ROLECALL_WEBHOOK_GIVE_UP_S`."""

    webhook_timeout_s: float = field(default=10.0, metadata=_env("ROLECALL_WEBHOOK_TIMEOUT_S"))
    """How long one delivery attempt may take before it counts as failed. Default 10.
    Env: `ROLECALL_WEBHOOK_TIMEOUT_S`."""

    events_url: str = field(default="", metadata=_env("ROLECALL_EVENTS_URL"))
    """If set, live session events (`session.started`, `transcript.line`, `tool.completed`, ...,
    `session.ended`) are POSTed here as they happen, signed like the report with
    `ROLECALL_WEBHOOK_SECRET`, in order per session, from the worker's main process. Default off.
    Env: `ROLECALL_EVENTS_URL`."""

    events_filter: str = field(default="*", metadata=_env("ROLECALL_EVENTS_FILTER"))
    """Which live event types go to `ROLECALL_EVENTS_URL`: comma-separated names (`tool.completed`),
    prefixes (`tool.*`), or `*` for all. Default `*`. Env: `ROLECALL_EVENTS_FILTER`."""

    events_retry_s: str = field(default="1,2,5,10", metadata=_env("ROLECALL_EVENTS_RETRY_S"))
    """Seconds between attempts at one live event, comma-separated; the last repeats. Default
    `1,2,5,10`. Env: `ROLECALL_EVENTS_RETRY_S`."""

    events_give_up_s: float = field(default=60.0, metadata=_env("ROLECALL_EVENTS_GIVE_UP_S"))
    """How long after its first attempt a live event is dropped (WARNING log) so the session's later
    events can follow; the report keeps the whole story. Default 60. Env: `ROLECALL_EVENTS_GIVE_UP_S`."""

    spool_dir: Path = field(default=Path(".rolecall/spool"), metadata=_env("ROLECALL_SPOOL_DIR"))
    """Folder of the report spool: every session's checkpoints and report, kept until delivered and
    then for `ROLECALL_SPOOL_KEEP_DAYS` (transcripts: created private, mode 0700). One per deployment,
    shared by its workers (a local file system; compose: a volume). Default `.rolecall/spool` under the
    working directory. Env: `ROLECALL_SPOOL_DIR`."""

    spool_keep_days: float = field(default=7.0, metadata=_env("ROLECALL_SPOOL_KEEP_DAYS"))
    """Days a delivered or dead-lettered report stays in the spool (for `python -m worker reports`).
    Default 7. Env: `ROLECALL_SPOOL_KEEP_DAYS`."""

    analysis_timeout_s: float = field(default=15.0, metadata=_env("ROLECALL_ANALYSIS_TIMEOUT_S"))
    """How long a role's post-call analysis may take; past it the report says the analysis failed and
    goes out without it. Default 15. Env: `ROLECALL_ANALYSIS_TIMEOUT_S`."""

    prices_file: Path | None = field(default=None, metadata=_env("ROLECALL_PRICES_FILE"))
    """YAML or JSON price table (USD per million tokens, per model) for the cost estimate; the
    built-in table is used when unset. Env: `ROLECALL_PRICES_FILE`."""

    app_url: str = field(default="http://localhost:8080", metadata=_env("ROLECALL_APP_URL"))
    """Base URL of the app backend that `http` tools call: a tool whose `url` is a path
    (`/api/recipes/search`) posts to this URL plus the path, so one role file works on a laptop and in
    `docker compose` (`http://web:8080`). Default `http://localhost:8080` (the web backend of
    `make demo`). Env: `ROLECALL_APP_URL`."""

    http_allowed_hosts: str = field(default="", metadata=_env("ROLECALL_HTTP_ALLOWED_HOSTS"))
    """Comma-separated hosts that `http` tools and MCP servers may reach, whatever the role files say (a
    tool's own `allowed_hosts` narrows this further). Empty: no limit beyond the role files. Env:
    `ROLECALL_HTTP_ALLOWED_HOSTS`."""

    http_private_hosts: str = field(default="", metadata=_env("ROLECALL_HTTP_PRIVATE_HOSTS"))
    """Comma-separated hosts (names or IP addresses) that `http` tools and MCP servers may call although
    they are loopback, private, link-local or other non-public addresses; all others are refused,
    checked on the addresses a name resolves to. The host of `ROLECALL_APP_URL` always may. Default:
    none. Env: `ROLECALL_HTTP_PRIVATE_HOSTS`."""

    tool_env: str = field(default="TOOL_*", metadata=_env("ROLECALL_TOOL_ENV"))
    """Comma-separated environment variable names, or prefixes ending in `*`, that role files may
    reference (`${NAME}` in `http` tool headers, `secret_env`). RoleCall's own (`LIVEKIT_*`, `OPENAI_*`,
    `ROLECALL_*`) never: only `secret_env: ROLECALL_TOOL_SECRET`, which signs and is never sent.
    Default `TOOL_*`. Env: `ROLECALL_TOOL_ENV`."""

    python_tool_modules: str = field(default="", metadata=_env("ROLECALL_PYTHON_TOOL_MODULES"))
    """Comma-separated dotted module prefixes (`my_company.voice_tools`) whose `async def` functions
    `python` tools may name; a prefix covers the module and everything under it. Role authors are not
    operators: empty (the default) allows none. Env: `ROLECALL_PYTHON_TOOL_MODULES`."""

    mcp_list_ttl_s: int = field(default=300, metadata=_env("ROLECALL_MCP_LIST_TTL_S"))
    """How long a worker process reuses an MCP server's tool listing before a new session lists it
    again (a session lists once, at its start; `0` lists for every session). Default 300.
    Env: `ROLECALL_MCP_LIST_TTL_S`."""

    web_host: str = field(default="127.0.0.1", metadata=_env("ROLECALL_WEB_HOST"))
    """Interface the web backend binds. Default `127.0.0.1`. Env: `ROLECALL_WEB_HOST`."""

    web_port: int = field(default=8080, metadata=_env("ROLECALL_WEB_PORT"))
    """Port of the web backend. Default 8080. Env: `ROLECALL_WEB_PORT`."""

    public_livekit_url: str = field(default="", metadata=_env("ROLECALL_PUBLIC_LIVEKIT_URL"))
    """LiveKit URL handed to browsers, when it differs from `LIVEKIT_URL` (e.g. behind a proxy).
    Env: `ROLECALL_PUBLIC_LIVEKIT_URL`."""

    token_ttl_s: int = field(default=600, metadata=_env("ROLECALL_TOKEN_TTL_S"))
    """Lifetime of a browser's LiveKit token. Default 600. Env: `ROLECALL_TOKEN_TTL_S`."""

    web_static_dir: Path = field(default=Path("frontend/demo/dist"), metadata=_env("ROLECALL_WEB_STATIC_DIR"))
    """Built demo app the web backend serves at `/` (Vite's output). Default `frontend/demo/dist`.
    Env: `ROLECALL_WEB_STATIC_DIR`."""

    tool_secret: str = field(default="", repr=False, metadata=_env("ROLECALL_TOOL_SECRET"))
    """HMAC-SHA256 key shared with the worker: the web backend's tool endpoints (recipe search) accept
    only calls signed with it, and answer 503 while it is unset. Never logged. Env: `ROLECALL_TOOL_SECRET`."""

    web_auth: str = field(default="none", metadata=_env("ROLECALL_WEB_AUTH"))
    """Who may call `POST /api/session`: `none` (anyone who reaches it; refused on a non-loopback
    address unless `ROLECALL_WEB_ALLOW_ANONYMOUS`), `api-key` (the app's servers, with a key of
    `ROLECALL_WEB_API_KEYS`) or `jwt` (browsers, with a token issued by the app). Default `none`.
    Env: `ROLECALL_WEB_AUTH`."""

    web_allow_anonymous: bool = field(default=False, metadata=_env("ROLECALL_WEB_ALLOW_ANONYMOUS"))
    """Allow `ROLECALL_WEB_AUTH=none` on a non-loopback address, because something in front keeps
    strangers out (compose: the port is published on 127.0.0.1 only). For demos. Default `false`.
    Env: `ROLECALL_WEB_ALLOW_ANONYMOUS`."""

    web_api_keys: str = field(default="", repr=False, metadata=_env("ROLECALL_WEB_API_KEYS"))
    """Comma-separated bearer keys of `api-key` mode (32+ characters each; several for rotation).
    Never logged. Env: `ROLECALL_WEB_API_KEYS`."""

    web_jwt_secret: str = field(default="", repr=False, metadata=_env("ROLECALL_WEB_JWT_SECRET"))
    """HS256 secret (32+ characters) of the app's tokens in `jwt` mode; or set
    `ROLECALL_WEB_JWT_JWKS_URL`. Never logged. Env: `ROLECALL_WEB_JWT_SECRET`."""

    web_jwt_jwks_url: str = field(default="", metadata=_env("ROLECALL_WEB_JWT_JWKS_URL"))
    """JWKS URL of the app's token signing keys (RS256, ES256) in `jwt` mode; fetched and cached.
    Env: `ROLECALL_WEB_JWT_JWKS_URL`."""

    web_jwt_issuer: str = field(default="", metadata=_env("ROLECALL_WEB_JWT_ISSUER"))
    """The `iss` the app's tokens must carry. Required in `jwt` mode. Env: `ROLECALL_WEB_JWT_ISSUER`."""

    web_jwt_audience: str = field(default="", metadata=_env("ROLECALL_WEB_JWT_AUDIENCE"))
    """The `aud` the app's tokens must carry. Required in `jwt` mode. Env: `ROLECALL_WEB_JWT_AUDIENCE`."""

    web_sessions_per_minute: int = field(default=6, metadata=_env("ROLECALL_WEB_SESSIONS_PER_MINUTE"))
    """Sessions one client (address, and user in `jwt` mode) may start per minute, after a burst of
    `ROLECALL_WEB_SESSION_BURST`; `0` turns the limit off. `api-key` callers are exempt. Default 6.
    Env: `ROLECALL_WEB_SESSIONS_PER_MINUTE`."""

    web_session_burst: int = field(default=3, metadata=_env("ROLECALL_WEB_SESSION_BURST"))
    """Sessions one client may start at once before the per-minute rate applies. Default 3.
    Env: `ROLECALL_WEB_SESSION_BURST`."""

    web_max_sessions: int = field(default=40, metadata=_env("ROLECALL_WEB_MAX_SESSIONS"))
    """Sessions that may be pending (dispatched, user not joined) or active at once, counted in
    LiveKit; `0` turns the cap off. Default 40. Env: `ROLECALL_WEB_MAX_SESSIONS`."""

    web_redispatch_interval_s: float = field(
        default=20.0, metadata=_env("ROLECALL_WEB_REDISPATCH_INTERVAL_S")
    )
    """Shortest time between two agent re-dispatches into one room. Default 20.
    Env: `ROLECALL_WEB_REDISPATCH_INTERVAL_S`."""

    trusted_proxies: str = field(default="", metadata=_env("ROLECALL_TRUSTED_PROXIES"))
    """Comma-separated addresses or CIDRs of reverse proxies whose `X-Forwarded-For` names the client;
    from anyone else the header is ignored. Default: none. Env: `ROLECALL_TRUSTED_PROXIES`."""

    log_level: str = field(default="INFO", metadata=_env("ROLECALL_LOG_LEVEL"))
    """Log level of the worker and web backend. Default `INFO`. Env: `ROLECALL_LOG_LEVEL`."""

    log_format: str = field(default="", metadata=_env("ROLECALL_LOG_FORMAT"))
    """`json` (one JSON object a line, with the session's fields: room, job, role, participant) or
    `text`. Default: `json` under `start`, `text` under `dev` and for the web backend.
    Env: `ROLECALL_LOG_FORMAT`."""

    metrics: bool = field(default=True, metadata=_env("ROLECALL_METRICS"))
    """Serve Prometheus metrics at `/metrics` on the worker's health endpoint (ROLECALL_HEALTH_HOST:
    ROLECALL_HEALTH_PORT). Default `true`. Env: `ROLECALL_METRICS`."""

    web_metrics_port: int = field(default=0, metadata=_env("ROLECALL_WEB_METRICS_PORT"))
    """Port of the web backend's Prometheus metrics (`/metrics`), a listener of its own so the public
    port never serves them; `0`: off. Default 0. Env: `ROLECALL_WEB_METRICS_PORT`."""

    web_metrics_host: str = field(default="127.0.0.1", metadata=_env("ROLECALL_WEB_METRICS_HOST"))
    """Interface of the web backend's metrics listener. Default `127.0.0.1`.
    Env: `ROLECALL_WEB_METRICS_HOST`."""

    otlp_endpoint: str = field(default="", metadata=_env("ROLECALL_OTLP_ENDPOINT"))
    """OpenTelemetry collector (OTLP over HTTP, e.g. `http://otel-collector:4318`) for traces of every
    session, linked from the web backend's session start to the worker's job; empty: no traces.
    Env: `ROLECALL_OTLP_ENDPOINT`."""

    trace_content: bool = field(default=False, metadata=_env("ROLECALL_TRACE_CONTENT"))
    """Let tool arguments, prompts and transcripts into traces. Default `false`: spans carry kinds,
    names and outcomes only. Env: `ROLECALL_TRACE_CONTENT`."""

    @classmethod
    def env_names(cls) -> dict[str, str]:
        """Map of field name to environment variable, for documentation and checks."""
        return {f.name: f.metadata["env"] for f in dataclasses.fields(cls)}

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        dotenv: Path | None = Path(".env"),
        *,
        need_livekit: bool = True,
    ) -> Settings:
        """Read settings from `environ` (default `os.environ`), with `.env` filling what is unset
        (`need_livekit=False`: for tools that never connect, like `roles check`)."""
        source: dict[str, str] = {}
        if dotenv is not None and dotenv.is_file():
            source.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
        source.update(os.environ if environ is None else environ)
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        problems: list[str] = []
        for f in dataclasses.fields(cls):
            raw = source.get(f.metadata["env"])
            if raw is None or raw.strip() == "":
                continue
            try:
                values[f.name] = _convert(raw.strip(), hints[f.name])
            except ValueError as exc:
                problems.append(f"{f.metadata['env']}={_shown(f, raw)}: {exc}")
        settings = cls(**values)
        problems += settings.problems(need_livekit=need_livekit)
        if problems:
            raise SettingsError(problems)
        return settings

    def problems(self, *, need_livekit: bool = True) -> list[str]:
        """What is missing or inconsistent, one line per setting."""
        out: list[str] = []
        if need_livekit:
            for name in ("livekit_url", "livekit_api_key", "livekit_api_secret"):
                if not getattr(self, name):
                    out.append(f"{self.env_names()[name]} is required (see README, 'Settings')")
            if self.livekit_url and not self.livekit_url.startswith(
                ("ws://", "wss://", "http://", "https://")
            ):
                out.append(
                    f"LIVEKIT_URL={self.livekit_url}: expected a ws://, wss://, http:// or https:// URL"
                )
        if self.session_host_identity.startswith("user-"):
            out.append(
                f"ROLECALL_SESSION_HOST_IDENTITY={self.session_host_identity}: user identities (user-...) "
                "cannot be given the session host; name an operator participant"
            )
        if not 1 <= self.chat_max_chars <= 100_000:
            out.append(f"ROLECALL_CHAT_MAX_CHARS={self.chat_max_chars}: expected 1 to 100000")
        if self.log_format not in ("", "json", "text"):
            out.append(f"ROLECALL_LOG_FORMAT={self.log_format}: expected json or text")
        if self.otlp_endpoint and not self.otlp_endpoint.startswith(("http://", "https://")):
            out.append(f"ROLECALL_OTLP_ENDPOINT={self.otlp_endpoint}: expected an http:// or https:// URL")
        if self.livekit_max_retry < 1:
            out.append(f"ROLECALL_LIVEKIT_MAX_RETRY={self.livekit_max_retry}: expected at least 1")
        if self.max_sessions < 1:
            out.append(f"ROLECALL_MAX_SESSIONS={self.max_sessions}: expected at least 1")
        chunk = self.audio_input_chunk_ms
        if not 10 <= chunk <= 100 or chunk % 10:
            out.append(f"ROLECALL_AUDIO_INPUT_CHUNK_MS={chunk}: expected 10 to 100, a multiple of 10")
        if self.idle_processes is not None and self.idle_processes < 0:
            out.append(f"ROLECALL_IDLE_PROCESSES={self.idle_processes}: expected 0 or more")
        if not 10 <= self.model_preopen_max_age_s <= 2400:
            out.append(
                f"ROLECALL_MODEL_PREOPEN_MAX_AGE_S={self.model_preopen_max_age_s:g}: expected 10 to 2400"
            )
        if self.job_executor not in ("process", "thread"):
            out.append(f"ROLECALL_JOB_EXECUTOR={self.job_executor}: expected process or thread")
        if self.webhook_url and not self.webhook_secret:
            out.append("ROLECALL_WEBHOOK_SECRET is required when ROLECALL_WEBHOOK_URL is set")
        out += self._webhook_problems()
        if self.webhook_url and not self.webhook_url.startswith(("http://", "https://")):
            out.append(f"ROLECALL_WEBHOOK_URL={self.webhook_url}: expected an http:// or https:// URL")
        out += self._events_problems()
        if self.openai_base_url and not self.openai_base_url.startswith(
            ("http://", "https://", "ws://", "wss://")
        ):
            out.append(f"OPENAI_BASE_URL={self.openai_base_url}: expected an http(s):// or ws(s):// URL")
        from worker.roles.policy import (
            env_allow_problems,
            host_problems,
            module_problems,
            parse_env_allow,
            parse_modules,
        )

        out += [f"ROLECALL_TOOL_ENV: {p}" for p in env_allow_problems(parse_env_allow(self.tool_env))]
        out += [f"ROLECALL_HTTP_PRIVATE_HOSTS: {p}" for p in host_problems(self.http_private_hosts)]
        modules = parse_modules(self.python_tool_modules)
        out += [f"ROLECALL_PYTHON_TOOL_MODULES: {p}" for p in module_problems(modules)]
        app = urlsplit(self.app_url)
        if app.scheme not in ("http", "https") or not app.hostname or app.query or app.fragment:
            out.append(
                f"ROLECALL_APP_URL={self.app_url}: expected an http:// or https:// URL like http://web:8080"
            )
        if self.prices_file is not None:
            from worker.pricing import PriceTableError, load_prices

            try:
                load_prices(self.prices_file)
            except PriceTableError as exc:
                out.append(f"ROLECALL_PRICES_FILE: {exc}")
        return out

    def _webhook_problems(self) -> list[str]:
        from worker.outbox.envelope import secret_problem

        out = []
        for env, value in (
            ("ROLECALL_WEBHOOK_SECRET", self.webhook_secret),
            ("ROLECALL_WEBHOOK_SECRET_PREVIOUS", self.webhook_secret_previous),
        ):
            problem = secret_problem(value) if value else None
            if problem:
                out.append(f"{env}: {problem}")
        try:
            self.webhook_retry_delays()
        except ValueError as exc:
            out.append(f"ROLECALL_WEBHOOK_RETRY_S={self.webhook_retry_s!r}: {exc}")
        return out

    def _events_problems(self) -> list[str]:
        from worker.events.model import parse_filter

        out = []
        if self.events_url and not self.webhook_secret:
            out.append("ROLECALL_WEBHOOK_SECRET is required when ROLECALL_EVENTS_URL is set (to sign)")
        if self.events_url and not self.events_url.startswith(("http://", "https://")):
            out.append(f"ROLECALL_EVENTS_URL={self.events_url}: expected an http:// or https:// URL")
        try:
            parse_filter(self.events_filter)
        except ValueError as exc:
            out.append(f"ROLECALL_EVENTS_FILTER={self.events_filter!r}: {exc}")
        try:
            self.events_retry_delays()
        except ValueError as exc:
            out.append(f"ROLECALL_EVENTS_RETRY_S={self.events_retry_s!r}: {exc}")
        return out

    def events_retry_delays(self) -> tuple[float, ...]:
        """`ROLECALL_EVENTS_RETRY_S` as numbers; ValueError saying what is wrong."""
        return dataclasses.replace(self, webhook_retry_s=self.events_retry_s).webhook_retry_delays()

    def webhook_retry_delays(self) -> tuple[float, ...]:
        """`ROLECALL_WEBHOOK_RETRY_S` as numbers; ValueError saying what is wrong."""
        parts = [p.strip() for p in self.webhook_retry_s.split(",")]
        try:
            delays = tuple(float(p) for p in parts)
        except ValueError:
            raise ValueError("expected seconds separated by commas, e.g. 5,30,120") from None
        if not all(0 < d < 1e7 for d in delays):
            raise ValueError("each delay must be a number of seconds above 0")
        return delays

    def allowed_http_hosts(self) -> frozenset[str] | None:
        """`ROLECALL_HTTP_ALLOWED_HOSTS` as a set (lower case), or None when it is empty."""
        hosts = {h.strip().lower() for h in self.http_allowed_hosts.split(",") if h.strip()}
        return frozenset(hosts) if hosts else None

    def private_http_hosts(self) -> frozenset[str]:
        """Hosts `http` tools may call at non-public addresses: `ROLECALL_HTTP_PRIVATE_HOSTS` and the
        host of `ROLECALL_APP_URL` (normalised: lower case, canonical IPs)."""
        from worker.roles.policy import normal_host, parse_hosts

        app_host = urlsplit(self.app_url).hostname
        extra = {normal_host(app_host)} if app_host else set()
        return parse_hosts(self.http_private_hosts) | extra

    def role_policy(self) -> RolePolicy:
        """What role files may reference here (`ROLECALL_TOOL_ENV`, private hosts, python tool modules),
        for the registry."""
        from worker.roles.policy import RolePolicy, parse_env_allow, parse_modules

        return RolePolicy(
            env_allow=parse_env_allow(self.tool_env),
            private_hosts=self.private_http_hosts(),
            python_modules=parse_modules(self.python_tool_modules),
        )

    def http_tool_url(self, url: str) -> str:
        """A role's `http` tool URL as called: a path is appended to `ROLECALL_APP_URL`."""
        return self.app_url.rstrip("/") + url if url.startswith("/") else url

    def live_reload_enabled(self, devmode: bool) -> bool:
        """Whether running sessions follow role file edits."""
        return devmode if self.live_reload is None else self.live_reload

    def warm_processes(self) -> int:
        """Warm job processes to keep under `start`: ROLECALL_IDLE_PROCESSES, or a fifth of the
        capacity (at least 2), so the sessions still to come at 80% load find a process ready."""
        if self.idle_processes is not None:
            return self.idle_processes
        return max(2, math.ceil(self.max_sessions / 5))


def _shown(f: dataclasses.Field[Any], raw: str) -> str:
    return "<hidden>" if not f.repr else repr(raw)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _convert(raw: str, hint: Any) -> Any:
    """Convert one environment string to the field's type, or raise ValueError saying what was expected."""
    if isinstance(hint, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _convert(raw, inner[0])
    if hint is bool:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise ValueError("expected true or false")
    if hint is int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError("expected a whole number") from None
        if value < 0:
            raise ValueError("expected a number >= 0")
        return value
    if hint is float:
        try:
            number = float(raw)
        except ValueError:
            raise ValueError("expected a number of seconds") from None
        if not number > 0:
            raise ValueError("expected a number > 0")
        return number
    if hint is Path:
        return Path(raw)
    return raw
