"""What an operator sees of a real session: Prometheus metrics on the worker's health port, OpenTelemetry
traces in a collector (an OTLP/HTTP receiver this test runs), JSON log lines, and no secret in any of them.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider

from tests.session.conftest import HTTP_SECRET, Stack, make_stack
from tests.support.livekit_server import LiveKitServer

pytestmark = pytest.mark.integration


@dataclass
class Collector:
    """An OTLP/HTTP trace receiver (what an OpenTelemetry collector serves on :4318)."""

    spans: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/traces", self._traces)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _traces(self, request: web.Request) -> web.Response:
        message = ExportTraceServiceRequest()
        message.ParseFromString(await request.read())
        for resource in message.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}.get("service.name")
            for scope in resource.scope_spans:
                for span in scope.spans:
                    self.spans.append(
                        {
                            "service": service,
                            "name": span.name,
                            "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(),
                            "parent": span.parent_span_id.hex(),
                            "attributes": {a.key: _value(a.value) for a in span.attributes},
                        }
                    )
        return web.Response(body=b"", content_type="application/x-protobuf")


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


class CollectorThread:
    """The collector on an event loop of its own, for as long as the module's worker runs."""

    def __init__(self) -> None:
        self.collector = Collector()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="otlp", daemon=True)

    def start(self) -> Collector:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.collector.start(), self._loop).result(10)
        return self.collector

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.collector.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


@pytest.fixture(scope="module")
def observed(
    livekit_server: LiveKitServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Collector, Stack]]:
    thread = CollectorThread()
    collector = thread.start()
    stacks = make_stack(
        livekit_server,
        tmp_path_factory,
        ROLECALL_LOG_FORMAT="json",
        ROLECALL_OTLP_ENDPOINT=f"http://127.0.0.1:{collector.port}",
    )
    try:
        yield collector, next(stacks)
    finally:
        next(stacks, None)
        thread.stop()


def health_port(stack: Stack) -> int:
    found = re.search(r"health endpoint listening on port (\d+)", stack.worker.log())
    assert found is not None, "the worker did not say where its health endpoint listens"
    return int(found.group(1))


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("text/plain")
        return resp.read().decode()


def sample(body: str, name: str, **labels: str) -> float:
    """The value of one series in a Prometheus exposition (0 when absent)."""
    for line in body.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_a_session_leaves_metrics_a_trace_and_json_logs(observed: tuple[Collector, Stack]) -> None:
    collector, stack = observed
    # The web backend's session start, as it would send its trace context along with the dispatch.
    provider = TracerProvider()
    web_span = provider.get_tracer("test").start_span("rolecall.session.start")
    carrier: dict[str, str] = {}
    from opentelemetry.propagate import inject

    inject(carrier, context=trace.set_span_in_context(web_span))
    ui = await stack.session("bench", handlers={"show_card": lambda a: {"shown": True}}, trace=carrier)
    try:
        await ui.wait_for(lambda: "Hello" in ui.agent_text(), what="greeting")
        await ui.say_text('/call show_card {"title": "Soup"}')
        await stack.wait_tool_output("show_card")
        await ui.say_text("/call end_session {}")
        report = await stack.wait_report(ui.room_name)
    finally:
        await ui.leave()
    assert report["end_reason"] == "end_session"

    # Metrics: the worker's health port serves every process's metrics.
    body = scrape(health_port(stack))
    assert sample(body, "rolecall_sessions_started_total", role="bench") >= 1
    assert sample(body, "rolecall_sessions_ended_total", role="bench", reason="end_session") >= 1
    assert (
        sample(
            body, "rolecall_tool_calls_total", role="bench", tool="show_card", kind="frontend", outcome="ok"
        )
        >= 1
    )
    assert sample(body, "rolecall_tool_call_seconds_count", tool="show_card", outcome="ok") >= 1
    assert sample(body, "rolecall_greeting_seconds_count", role="bench") >= 1
    assert sample(body, "rolecall_model_connections_total") >= 1
    assert "lk_agents_" in body  # livekit-agents' own metrics come along
    # The report went out from the worker's main process: its delivery is counted there.
    async with asyncio.timeout(15):
        while sample(body, "rolecall_report_attempts_total", result="delivered") < 1:
            await asyncio.sleep(0.2)
            body = scrape(health_port(stack))
    assert "\nrolecall_reports_pending 0.0\n" in body
    assert ui.room_name not in body and "user" not in re.findall(r'participant="([^"]*)"', body)

    # Traces: the session's span continues the web backend's trace; RoleCall's and livekit-agents'
    # spans are under it; no tool arguments or transcripts without ROLECALL_TRACE_CONTENT.
    web_trace = format(web_span.get_span_context().trace_id, "032x")
    async with asyncio.timeout(30):
        while not [
            s for s in collector.spans if s["name"] == "rolecall.session" and s["trace_id"] == web_trace
        ]:
            await asyncio.sleep(0.2)
    spans = [s for s in collector.spans if s["trace_id"] == web_trace]
    session = next(s for s in spans if s["name"] == "rolecall.session")
    assert session["parent"] == format(web_span.get_span_context().span_id, "016x")
    assert session["attributes"]["rolecall.role"] == "bench"
    assert session["attributes"]["rolecall.end_reason"] == "end_session"
    names = {s["name"] for s in spans}
    assert {"rolecall.resolve_role", "rolecall.model_connect", "rolecall.greeting", "rolecall.tool"} <= names
    assert "agent_session" in names  # livekit-agents' spans nest in the session's trace
    tool = next(
        s
        for s in spans
        if s["name"] == "rolecall.tool" and s["attributes"]["rolecall.tool.name"] == "show_card"
    )
    assert (
        tool["attributes"]["rolecall.tool.kind"] == "frontend"
        and tool["attributes"]["rolecall.tool.outcome"] == "ok"
    )
    everything = json.dumps(spans)
    assert "Soup" not in everything and "Hello from the test bench" not in everything
    assert HTTP_SECRET not in everything and stack.livekit.api_secret not in everything

    # JSON logs: the worker's lines about this session parse, and carry its fields.
    lines = [json.loads(line) for line in stack.worker.log().splitlines() if line.startswith("{")]
    mine = [entry for entry in lines if entry.get("room") == ui.room_name]
    assert any(entry.get("role") == "bench" and entry.get("message") for entry in mine), mine[:3]
    assert HTTP_SECRET not in stack.worker.log() and stack.livekit.api_secret not in stack.worker.log()
