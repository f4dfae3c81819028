"""The compose observability profile: Prometheus scrapes what the services serve, and every metric its
rules name is one RoleCall (or livekit-agents) exports."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

from tests.deploy.test_compose import services
from worker import metrics

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PROMQL_NAME = re.compile(r"\b(rolecall_[a-z_]+?)(?:_bucket|_count|_sum)?\b(?![:(])")


def load(name: str) -> Any:
    return yaml.safe_load((ROOT / "deploy" / name).read_text())


def exported_names() -> set[str]:
    """Every metric family RoleCall defines (counters without their _total, as PromQL names them too)."""
    names = set()
    for metric in REGISTRY.collect():
        if metric.name.startswith("rolecall_"):
            names.add(metric.name)
            names.add(metric.name + "_total")
    names.add("rolecall_sessions_active")  # collected by the worker at scrape time (ActiveSessions)
    # Likewise, from the main process's outbox (DeliveryMetrics).
    names |= {
        "rolecall_reports_pending",
        "rolecall_report_attempts_total",
        "rolecall_reports_dead_lettered_total",
        "rolecall_crash_reports_total",
    }
    return names


def test_prometheus_scrapes_the_ports_the_services_serve_metrics_on() -> None:
    config = load("prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    worker_env, web_env = services()["worker"]["environment"], services()["web"]["environment"]
    worker_sd = jobs["rolecall-worker"]["dns_sd_configs"][0]
    assert worker_sd["names"] == ["worker"] and str(worker_sd["port"]) == worker_env["ROLECALL_HEALTH_PORT"]
    assert worker_env["ROLECALL_METRICS"].endswith("true}") or worker_env["ROLECALL_METRICS"] == "true"
    assert "0.0.0.0" in worker_env["ROLECALL_HEALTH_HOST"]  # other containers scrape it
    web_port = re.sub(r"\$\{\w+:-(\d+)\}", r"\1", str(web_env["ROLECALL_WEB_METRICS_PORT"]))
    assert jobs["rolecall-web"]["static_configs"][0]["targets"] == [f"web:{web_port}"]
    # Neither metrics port is published on the host; Prometheus itself only on loopback.
    assert all(
        "9464" not in str(p) and "8081" not in str(p) for s in services().values() for p in s.get("ports", [])
    )
    assert services()["prometheus"]["ports"] == ["127.0.0.1:${ROLECALL_PROMETHEUS_PUBLISH_PORT:-9090}:9090"]
    mounted = {v.split(":")[0] for v in services()["prometheus"]["volumes"]}
    assert mounted == {"./deploy/prometheus.yml", "./deploy/prometheus-rules.yml"}
    assert config["rule_files"] == ["/etc/prometheus/rules.yml"]


def test_every_metric_the_rules_name_is_exported() -> None:
    assert metrics.SESSIONS_STARTED is not None  # importing worker.metrics registers RoleCall's metrics
    exported = exported_names()
    named = set()
    for group in load("prometheus-rules.yml")["groups"]:
        for rule in group["rules"]:
            assert ("record" in rule) != ("alert" in rule)
            named |= set(PROMQL_NAME.findall(rule["expr"]))
    assert named, "the rules name no metric"
    assert named - exported == set(), f"rules name metrics nobody exports: {sorted(named - exported)}"


def test_alerts_name_only_recorded_series_that_exist() -> None:
    rules = [r for g in load("prometheus-rules.yml")["groups"] for r in g["rules"]]
    recorded = {r["record"] for r in rules if "record" in r}
    for rule in rules:
        for name in re.findall(r"\brolecall:[a-z0-9_:]+", rule["expr"]):
            assert name in recorded, f"{rule.get('alert') or rule.get('record')} uses {name}, never recorded"
