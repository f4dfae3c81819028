"""Spans of a session and of its tool calls, with an in-memory exporter: parents, kinds, outcomes, and no
content unless the operator opts in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from livekit.agents.llm import ToolError
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.support.fake_session import fake_context
from tests.tools.roles_for_tests import front, write_roles
from worker import tracing
from worker.session.observe import SessionObserver
from worker.settings import Settings
from worker.tools.guard import guarded

pytestmark = pytest.mark.unit

EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    provider = tracing.configure("", service="test", processor=SimpleSpanProcessor(EXPORTER))
    assert provider is not None, "another test installed a tracer provider without this exporter"
    EXPORTER.clear()
    yield EXPORTER
    EXPORTER.clear()


def named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name == name]


async def test_the_session_span_continues_the_trace_the_dispatch_carried(spans: InMemorySpanExporter) -> None:
    with tracing.tracer.start_as_current_span("rolecall.session.start") as web_span:
        carried = tracing.carrier()
    metadata = json.dumps({"role": "bench", "trace": carried})
    observer = SessionObserver(Settings(), room="r1", job_id="j1", metadata=metadata)
    with observer.resolving():
        pass
    observer.role_resolved("bench")
    observer.leave()
    observer.ended("end_session")
    session = named(spans, "rolecall.session")[0]
    assert session.context.trace_id == web_span.get_span_context().trace_id
    assert session.parent is not None and session.parent.span_id == web_span.get_span_context().span_id
    assert session.attributes is not None and session.attributes["rolecall.end_reason"] == "end_session"
    resolve = named(spans, "rolecall.resolve_role")[0]
    assert resolve.parent is not None and resolve.parent.span_id == session.context.span_id
    assert trace.get_current_span() is trace.INVALID_SPAN  # `leave` gave the context back


async def test_unusable_trace_context_starts_a_trace_of_its_own(spans: InMemorySpanExporter) -> None:
    for metadata in ("", "not json", '{"trace": "nope"}', '{"trace": {"traceparent": "00-zz"}}'):
        observer = SessionObserver(Settings(), room="r", job_id="j", metadata=metadata)
        observer.leave()
        observer.refused("bad_dispatch")
    assert len(named(spans, "rolecall.session")) == 4


async def test_tool_spans_carry_kind_and_outcome_but_no_arguments_by_default(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    role = front(write_roles(tmp_path))

    async def run(args: dict[str, Any], _: Any) -> str:
        return "{}"

    for content in (False, True):
        async with fake_context(settings=Settings(roles_dir=tmp_path, trace_content=content)) as ctx:
            tool = guarded(role.tool("show_card"), role, ctx, run)  # type: ignore[arg-type]
            await tool({"title": "Secret soup"}, None)  # type: ignore[arg-type]
            with pytest.raises(ToolError):
                await tool({"title": 5}, None)  # type: ignore[arg-type]
    ok, refused, ok_content, _ = named(spans, "rolecall.tool")
    assert ok.attributes is not None and refused.attributes is not None
    assert (
        ok.attributes["rolecall.tool.kind"] == "frontend" and ok.attributes["rolecall.tool.outcome"] == "ok"
    )
    assert refused.attributes["rolecall.tool.outcome"] == "refused"
    assert "Secret soup" not in json.dumps(dict(ok.attributes))
    assert ok_content.attributes is not None and "Secret soup" in str(
        ok_content.attributes["rolecall.tool.arguments"]
    )
