"""Prometheus metrics: what RoleCall's worker and web backend count, and how they are served.

The worker's sessions run in job processes (livekit-agents' process pool), so metrics use
prometheus-client's multiprocess mode: `python -m worker start|dev` points `PROMETHEUS_MULTIPROC_DIR` at
a private folder every process of the worker writes to before anything imports prometheus-client
(`worker.runner`), and `/metrics` on the worker's health port reads them all. livekit-
agents' own metrics (`lk_agents_*`) come along. Sessions active by role are read from the worker's own
job list when scraped, not counted across processes.

Labels are bounded: role, tool and tool kind (from the operator's role files), outcome, end reason,
route and status; never rooms, identities or free text. A role name that is not in the roles folder is
counted as `other`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
OTHER = "other"
"""The label value for a role that is not in the roles folder (so a label never carries free text)."""

_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_GREETING_BUCKETS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)

# --- the worker (job processes write these; the main process serves them) ------------------------------

SESSIONS_STARTED = Counter("rolecall_sessions_started_total", "Sessions started (the user joined)", ["role"])
SESSIONS_ENDED = Counter("rolecall_sessions_ended_total", "Sessions ended, by why", ["role", "reason"])
SESSIONS_REFUSED = Counter(
    "rolecall_sessions_refused_total", "Jobs refused before a session started, by code", ["code"]
)
GREETING_SECONDS = Histogram(
    "rolecall_greeting_seconds",
    "From the job's start to the agent's first speech",
    ["role"],
    buckets=_GREETING_BUCKETS,
)
TOOL_CALLS = Counter(
    "rolecall_tool_calls_total",
    "Tool calls, by outcome (ok, error, refused)",
    ["role", "tool", "kind", "outcome"],
)
TOOL_SECONDS = Histogram(
    "rolecall_tool_call_seconds",
    "Tool call latency, from the model's call to the answer handed back",
    ["role", "tool", "kind", "outcome"],
    buckets=_LATENCY_BUCKETS,
)
MODEL_ERRORS = Counter(
    "rolecall_model_errors_total",
    "Errors from the model connection, by whether it recovered",
    ["recoverable"],
)
MODEL_CONNECTIONS = Counter("rolecall_model_connections_total", "Model connections opened")
MODEL_RECONNECTS = Counter(
    "rolecall_model_reconnects_total",
    "Model connections livekit-agents re-established after a drop or expiry",
)

# --- the web backend (one process) ---------------------------------------------------------------------

WEB_REQUESTS = Counter(
    "rolecall_web_requests_total", "Web API requests, by route and status", ["route", "status"]
)
WEB_SECONDS = Histogram(
    "rolecall_web_request_seconds", "Web API request latency, by route", ["route"], buckets=_LATENCY_BUCKETS
)
ADMISSION_REFUSALS = Counter(
    "rolecall_web_admission_refusals_total",
    "Session starts and re-dispatches refused with 429, by code",
    ["code"],
)


def role_label(name: str, known: Iterable[str]) -> str:
    """`name` when it is one of the roles in the folder, else `other`."""
    return name if name in set(known) else OTHER


class ActiveSessions(Collector):
    """`rolecall_sessions_active{role}`: the worker's running jobs, read when scraped."""

    def __init__(self, roles: Callable[[], list[str]]) -> None:
        self._roles = roles

    def collect(self) -> Iterable[Metric]:
        gauge = GaugeMetricFamily(
            "rolecall_sessions_active", "Sessions running on this worker now", labels=["role"]
        )
        for role, count in sorted(self._roles_count().items()):
            gauge.add_metric([role], count)
        yield gauge

    def _roles_count(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for role in self._roles():
            counts[role] = counts.get(role, 0) + 1
        return counts


class DeliveryMetrics(Collector):
    """What the worker's main process did with session reports (`worker.outbox.Outbox.stats`), read when
    scraped. Kept in the process rather than in prometheus-client's multiprocess files: livekit-agents
    empties that folder when the worker starts, after the main process has opened its own file."""

    def __init__(self, stats: Callable[[], DeliveryStats]) -> None:
        self._stats = stats

    def collect(self) -> Iterable[Metric]:
        stats = self._stats()
        attempts = CounterMetricFamily(
            "rolecall_report_attempts",
            "Attempts at delivering a session report, by result (delivered, failed: retried, gone: 410)",
            labels=["result"],
        )
        for result in ("delivered", "failed", "gone"):
            attempts.add_metric([result], stats.attempts.get(result, 0))
        yield attempts
        dead = CounterMetricFamily(
            "rolecall_reports_dead_lettered",
            "Session reports given up on, by why (gone: 410 Gone, exhausted: no attempt left)",
            labels=["why"],
        )
        for why in ("gone", "exhausted"):
            dead.add_metric([why], stats.dead.get(why, 0))
        yield dead
        yield CounterMetricFamily(
            "rolecall_crash_reports",
            "Sessions whose process died before writing its report (reported from their checkpoints)",
            value=stats.crashes,
        )
        yield GaugeMetricFamily(
            "rolecall_reports_pending",
            "Session reports waiting for another delivery attempt",
            value=stats.pending,
        )


@dataclass
class DeliveryStats:
    """Counts of one outbox (`worker.outbox.Outbox`), for `DeliveryMetrics`."""

    attempts: dict[str, int] = field(default_factory=dict)
    dead: dict[str, int] = field(default_factory=dict)
    crashes: int = 0
    pending: int = 0


def exposition(extra: Iterable[Collector] = ()) -> tuple[bytes, str]:
    """The metrics of every process of this worker (or of this process), and their content type."""
    registry = CollectorRegistry(auto_describe=True)
    if os.environ.get(MULTIPROC_ENV):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        for collector in extra:
            registry.register(collector)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    for collector in extra:
        registry.register(collector)
    return generate_latest(REGISTRY) + generate_latest(registry), CONTENT_TYPE_LATEST
