"""The WebSocket server and its in-process API: start, stop, records, live connections.

    async with Simulator(SimulatorConfig(port=0)) as sim:
        model = RealtimeModel(base_url=sim.base_url, api_key="sim")
        ...
        assert not sim.violations

Every client event received and every server event sent is recorded with its connection id and a
monotonic timestamp (`record`, on in-process, off in the CLI; see `records.py`). In strict mode (the
default) each outgoing event is validated against the openai package's server event types; failures
land in `violations` (the event is still sent). Every `error` event sent is logged at WARNING with
the client event it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from worker.simulator.events import JsonDict, ProtocolError
from worker.simulator.faults import ErrorKind, Faults, error_payload
from worker.simulator.live_session import LiveSession
from worker.simulator.records import RecordedEvent, Recorder, Violation
from worker.simulator.response import ConnectionGone
from worker.simulator.scenario import Scenario
from worker.simulator.session import Session
from worker.simulator.speech import Engine, Synthesizer
from worker.simulator.wire import LIVE, REALTIME, WIRES, Wire

log = logging.getLogger("rolecall.simulator")

DEFAULT_MODEL = "gpt-realtime"


@dataclass
class SimulatorConfig:
    """How the simulator serves. Every field has a CLI flag (`python -m worker simulate --help`)."""

    host: str = "127.0.0.1"
    """Interface to bind; loopback by default. CLI `--host`."""
    port: int = 8765
    """TCP port; 0 picks a free one (tests). CLI `--port`."""
    scenario: Scenario | None = None
    """Scripted conversation; None answers deterministically from the user's words. CLI `--scenario FILE`."""
    faults: Faults = field(default_factory=Faults)
    """Latency and fault knobs copied into each new connection (see `faults.py`)."""
    speech: Engine = "auto"
    """Reply audio: `espeak`, `tone` (speech-like signal), `auto` (espeak when installed). CLI `--speech`."""
    strict: bool = True
    """Validate every outgoing event against the openai types and record violations. CLI `--no-strict`."""
    max_event_bytes: int = 15 * 1024 * 1024
    """Largest client event accepted (bigger ones get an `error`); frames over twice this close the
    socket with 1009. CLI `--max-event-bytes`."""
    record: bool = True
    """Keep every event in `Simulator.received` / `sent` (tests and benchmarks read them). The CLI
    turns it off: a long-lived server would keep about 5.5 MB per minute of audio forever."""
    record_limit: int | None = None
    """With `record`: keep only the newest N events of each direction (between N and 2N are held),
    audio payloads replaced by their size (`bytes: n`). None keeps every event whole."""


_MAX_LOGGED_CHARS = 300
_NO_CLIENT_EVENT = "no client event (a fault)"


def _clip(text: str, limit: int = _MAX_LOGGED_CHARS) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


class Connection:
    """One live client connection; `faults` is its own copy, armable at run time."""

    def __init__(
        self, sim: Simulator, ws: ServerConnection, conn_id: str, model: str, wire: Wire = REALTIME
    ) -> None:
        self.sim = sim
        self.wire = wire
        """The protocol this connection speaks (Realtime or GPT-Live)."""
        self.ws = ws
        self.id = conn_id
        self.model = model
        self.faults = sim.faults.copy()
        self.closed = False
        self.sent_count = 0
        self.received_count = 0
        """Client messages received (0: a connection opened ahead of use, not yet taken by a session)."""
        self.first_received_at = 0.0
        """When the first of them came (monotonic): when a session took this connection."""
        self._lock = asyncio.Lock()
        self._cause = _NO_CLIENT_EVENT
        """The client event being handled, named in the log line of an `error` sent meanwhile."""
        self.session: Session | LiveSession
        if wire is LIVE:
            self.session = LiveSession(self, scenario=sim.config.scenario, synth=sim.synth)
        else:
            self.session = Session(self, model=model, scenario=sim.config.scenario, synth=sim.synth)

    async def send(self, event: JsonDict) -> None:
        """Validate (strict mode), record and send one server event; apply `drop_after_events`."""
        async with self._lock:
            if self.closed:
                raise ConnectionGone
            if self.sim.config.strict:
                problems = self.wire.validate(event)
                if problems:
                    self.sim.recorder.violation(Violation(self.id, event, problems))
                    log.error("server event %s does not validate: %s", event.get("type"), problems)
            if event.get("type") == "error":
                self._log_error(event)
            try:
                await self.ws.send(json.dumps(event))
            except ConnectionClosed:
                self.closed = True
                raise ConnectionGone from None
            self.sim.recorder.send(self.id, time.monotonic(), event)
            self.sent_count += 1
            limit = self.faults.drop_after_events
            if limit is not None and self.sent_count >= limit:
                await self.drop()
                raise ConnectionGone

    def _log_error(self, event: JsonDict) -> None:
        error = event.get("error") or {}
        log.warning(
            "%s: sent error (%s, code %s, param %s) for %s: %s",
            self.id,
            error.get("type"),
            error.get("code"),
            error.get("param"),
            self._cause,
            _clip(str(error.get("message"))),
        )

    async def drop(self) -> None:
        """Fault: end the socket now, abruptly or (with `faults.close_code`) with that close code."""
        if self.faults.close_code is not None:
            await self.close(self.faults.close_code, "simulated fault")
            return
        log.info("%s: dropping the connection (fault)", self.id)
        self.closed = True
        transport = self.ws.transport
        if transport is not None:
            transport.abort()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close with a close frame carrying `code`."""
        log.info("%s: closing with code %s", self.id, code)
        self.closed = True
        with contextlib.suppress(Exception):
            await self.ws.close(code, reason)

    async def send_error(self, kind: ErrorKind) -> None:
        """Send one of the fault errors now (outside any response)."""
        payload = error_payload(kind)
        await self.send(
            self.wire.error_event(
                ProtocolError(payload["message"], code=payload["code"], type=payload["type"])
            )
        )

    async def run(self) -> None:
        """Serve until the client leaves or a fault ends the socket."""
        try:
            await self.session.start()
            async for message in self.ws:
                await self._receive(message)
        except (ConnectionGone, ConnectionClosed):
            pass
        finally:
            self.closed = True
            await self.session.aclose()

    async def _receive(self, message: str | bytes) -> None:
        try:
            await self._handle_message(message)
        finally:
            self._cause = _NO_CLIENT_EVENT

    async def _handle_message(self, message: str | bytes) -> None:
        at = time.monotonic()
        self.received_count += 1
        self.first_received_at = self.first_received_at or at
        try:
            event = self.wire.parse(message, self.sim.config.max_event_bytes)
        except ProtocolError as err:
            raw = _best_effort_json(message)
            self.sim.recorder.receive(self.id, at, raw, err.message)
            self._cause = _describe(raw.get("type"), raw.get("event_id"))
            await self.send(self.wire.error_event(err))
            return
        record = self.sim.recorder.receive(self.id, at, event.raw)
        self._cause = _describe(event.type, event.event_id)
        try:
            await self.session.handle(event)
        except ProtocolError as err:
            if record is not None:
                record.error = err.message
            await self.send(self.wire.error_event(err))
        except ConnectionGone:
            raise
        except Exception as exc:  # a simulator bug must not take the connection down
            log.exception("%s: failed to handle %s", self.id, event.type)
            await self.send(
                self.wire.error_event(
                    ProtocolError(
                        f"Simulator error: {exc}", code=None, type="server_error", event_id=event.event_id
                    )
                )
            )


def _describe(event_type: object, event_id: object) -> str:
    """How a log line names a client event: its type and event_id, clipped (they are client input)."""
    kind = _clip(event_type, 64) if isinstance(event_type, str) else "an unparsed frame"
    ident = repr(_clip(event_id, 64)) if isinstance(event_id, str) else "none"
    return f"client event {kind} (event_id {ident})"


def _best_effort_json(message: str | bytes) -> JsonDict:
    if isinstance(message, str) and len(message) < 1_000_000:
        with contextlib.suppress(ValueError, RecursionError):
            value = json.loads(message)
            if isinstance(value, dict):
                return value
    return {"unparsed": message[:200] if isinstance(message, str) else f"<{len(message)} binary bytes>"}


class Simulator:
    """An OpenAI-Realtime-compatible server you can start and stop in-process."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.faults = self.config.faults
        """Template for new connections; changing it affects connections opened afterwards."""
        self.synth = Synthesizer(self.config.speech)
        self.recorder = Recorder(enabled=self.config.record, limit=self.config.record_limit)
        self.received: list[RecordedEvent] = self.recorder.received
        """Client events (`SimulatorConfig.record`), each with the refusal sent for it, if any."""
        self.sent: list[RecordedEvent] = self.recorder.sent
        """Server events (`SimulatorConfig.record`), with monotonic timestamps."""
        self.violations: list[Violation] = self.recorder.violations
        """Server events that failed validation (strict mode; the first 100)."""
        self.connections: list[Connection] = []
        """Live connections, oldest first."""
        self.connection_count = 0
        """Connections accepted so far (ids are `conn_1`, `conn_2`, …)."""
        self._server: Server | None = None
        self.port = self.config.port

    def in_use(self) -> list[Connection]:
        """The live connections a client has sent something on (one opened ahead of use by an idle job
        process has received nothing: `worker.preopen`)."""
        return [c for c in list(self.connections) if c.received_count and not c.closed]

    def newest_in_use(self) -> Connection:
        """The live connection a client began to use last: with one session at a time, that session's
        (connections opened ahead of use by idle job processes have received nothing; they may have
        been opened before another session's reconnection, so the order of opening says nothing)."""
        used = self.in_use()
        if not used:
            raise LookupError("no simulator connection in use")
        return max(used, key=lambda c: c.first_received_at)

    @property
    def host(self) -> str:
        return self.config.host

    @property
    def base_url(self) -> str:
        """HTTP base URL for `RealtimeModel(base_url=...)`, `AsyncOpenAI(base_url=...)`, `OPENAI_BASE_URL`."""
        return f"http://{_url_host(self.host)}:{self.port}/v1"

    @property
    def ws_url(self) -> str:
        """The WebSocket endpoint itself."""
        return f"ws://{_url_host(self.host)}:{self.port}/v1/realtime"

    @property
    def live_url(self) -> str:
        """The GPT-Live WebSocket endpoint (`GPTLiveModel(base_url=sim.base_url)` finds it)."""
        return f"ws://{_url_host(self.host)}:{self.port}/v1/live/sessions"

    async def start(self) -> None:
        """Bind and start serving."""
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            process_request=self._check_request,
            max_size=self.config.max_event_bytes * 2,
            close_timeout=2,
        )
        sock = next(iter(self._server.sockets))
        self.port = int(sock.getsockname()[1])
        log.info("simulator listening on %s", self.ws_url)

    async def stop(self) -> None:
        """Close every connection and stop serving; returns when all connection tasks ended."""
        if self._server is None:
            return
        for conn in list(self.connections):
            conn.closed = True
        self._server.close()
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def received_of(self, event_type: str, connection: str | None = None) -> list[JsonDict]:
        """The client events of one type received (optionally on one connection), in order."""
        return [
            r.event
            for r in self.received
            if r.type == event_type and r.error is None and (connection is None or r.connection == connection)
        ]

    def sent_of(self, event_type: str, connection: str | None = None) -> list[JsonDict]:
        """The server events of one type sent (optionally on one connection), in order."""
        return [
            r.event
            for r in self.sent
            if r.type == event_type and (connection is None or r.connection == connection)
        ]

    async def wait_for(
        self,
        event_type: str,
        *,
        sent: bool = False,
        where: Callable[[RecordedEvent], bool] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - a deadline is the point of this helper
    ) -> RecordedEvent:
        """Wait until an event of this type is received (or, with `sent`, sent); raise TimeoutError.

        Reads the records, so it needs `SimulatorConfig.record` on."""
        records = self.sent if sent else self.received
        async with asyncio.timeout(timeout):
            while True:
                for r in records:
                    if r.type == event_type and (where is None or where(r)):
                        return r
                await asyncio.sleep(0.01)

    async def _check_request(self, conn: ServerConnection, request: Request) -> Response | None:
        await asyncio.sleep(self.faults.connect_delay)
        path = urlsplit(request.path).path.rstrip("/")
        if _wire_for(path) is None:
            return _json_response(
                conn,
                HTTPStatus.NOT_FOUND,
                "not_found",
                f"No such endpoint: {path}; use /v1/realtime or /v1/live/sessions",
            )
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") and "api-key" not in request.headers:
            return _json_response(
                conn,
                HTTPStatus.UNAUTHORIZED,
                "invalid_api_key",
                "Missing bearer token (any token is accepted).",
            )
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        self.connection_count += 1
        conn_id = f"conn_{self.connection_count}"
        url = urlsplit(ws.request.path if ws.request else "")
        query = parse_qs(url.query)
        model = (query.get("model") or [DEFAULT_MODEL])[0]
        wire = _wire_for(url.path.rstrip("/")) or REALTIME
        conn = Connection(self, ws, conn_id, model, wire)
        self.connections.append(conn)
        log.info("%s: connected (%s)", conn_id, f"model {model}" if wire is REALTIME else "GPT-Live")
        try:
            await conn.run()
        finally:
            self.connections.remove(conn)
            log.info("%s: closed", conn_id)


def _wire_for(path: str) -> Wire | None:
    return next((w for w in WIRES if path.endswith(w.path)), None)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _json_response(conn: ServerConnection, status: HTTPStatus, code: str, message: str) -> Response:
    body = json.dumps(
        {"error": {"type": "invalid_request_error", "code": code, "message": message, "param": None}}
    )
    response = conn.respond(status, body)
    headers = Headers(response.headers)
    headers["Content-Type"] = "application/json"
    return Response(response.status_code, response.reason_phrase, headers, body.encode())
