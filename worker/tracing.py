"""OpenTelemetry traces, off unless `ROLECALL_OTLP_ENDPOINT` names a collector.

One trace per session: the web backend's session start (`rolecall.session.start`) is the parent of the
worker's job (`rolecall.session`, the trace context travels in the dispatch metadata), under which come
role resolution, the greeting, each tool call (`rolecall.tool`, with its kind and outcome) and
livekit-agents' own spans (the agent session, each turn, each model inference). Spans carry no tool
arguments, prompts or transcripts unless the operator opts in with `ROLECALL_TRACE_CONTENT=true`:
livekit-agents' content attributes are stripped in-process (its `allow_pii=False`) before any exporter.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

logger = logging.getLogger("rolecall.tracing")

tracer = trace.get_tracer("rolecall")
"""RoleCall's tracer (a no-op until `configure` installs a provider)."""

_configured: dict[str, TracerProvider] = {}


def configure(
    endpoint: str,
    *,
    service: str,
    content: bool = False,
    processor: SpanProcessor | None = None,
    livekit_agents: bool = True,
) -> TracerProvider | None:
    """Install a tracer provider exporting to the OTLP/HTTP `endpoint` (or to `processor`, in tests).

    Once per process; `content` lets prompts, transcripts and tool payloads into livekit-agents' spans
    (`livekit_agents`: the worker's processes hand the provider to livekit-agents too).
    Returns the provider, or None when tracing is off (no endpoint and no processor).
    """
    if "provider" in _configured:
        return _configured["provider"]
    if not endpoint and processor is None:
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if processor is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        processor = BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces"))
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    if livekit_agents:
        from livekit.agents import telemetry

        telemetry.set_tracer_provider(provider, allow_pii=content)
    _configured["provider"] = provider
    logger.info("traces go to %s (content %s)", endpoint or "a test processor", "on" if content else "off")
    return provider


def carrier() -> dict[str, str]:
    """The current trace context, to send along (W3C `traceparent`, `tracestate`)."""
    out: dict[str, str] = {}
    inject(out)
    return out


def context_from(carried: Mapping[str, str]) -> otel_context.Context:
    """The trace context a `carrier()` sent."""
    return extract(dict(carried))
