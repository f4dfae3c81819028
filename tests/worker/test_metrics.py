"""`worker.metrics` and the web backend's request metrics: bounded labels, values that count."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from prometheus_client import REGISTRY

from worker import metrics
from worker.web.observe import metrics_middleware, route_of

pytestmark = pytest.mark.unit


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_role_outside_the_folder_is_other() -> None:
    assert metrics.role_label("bench", ["bench", "concierge"]) == "bench"
    assert metrics.role_label("../../etc/passwd", ["bench"]) == metrics.OTHER


def test_active_sessions_are_read_from_the_worker_when_scraped() -> None:
    roles = ["bench", "bench", "other"]
    collected = list(metrics.ActiveSessions(lambda: roles).collect())
    samples = {s.labels["role"]: s.value for s in collected[0].samples}
    assert collected[0].name == "rolecall_sessions_active" and samples == {"bench": 2, "other": 1}
    roles.clear()
    assert next(iter(metrics.ActiveSessions(lambda: roles).collect())).samples == []


def test_the_exposition_has_rolecall_and_the_extra_collectors() -> None:
    metrics.SESSIONS_STARTED.labels(role="bench").inc()
    body, content_type = metrics.exposition([metrics.ActiveSessions(lambda: ["bench"])])
    text = body.decode()
    assert content_type.startswith("text/plain")
    assert 'rolecall_sessions_started_total{role="bench"}' in text
    assert 'rolecall_sessions_active{role="bench"} 1.0' in text


async def test_web_requests_are_counted_by_route_template_and_final_status() -> None:
    app = web.Application()

    async def recipe(_: web.Request) -> web.Response:
        return web.json_response({})

    async def broken(_: web.Request) -> web.Response:
        raise web.HTTPNotFound()

    app.router.add_get("/api/recipes/{id}", recipe)
    request = make_mocked_request("GET", "/api/recipes/soup-123", app=app)
    match = await app.router.resolve(request)
    request._match_info = match  # what aiohttp's router does before the middlewares run
    before = value("rolecall_web_requests_total", route="/api/recipes/{id}", status="200")
    await metrics_middleware(request, recipe)
    assert value("rolecall_web_requests_total", route="/api/recipes/{id}", status="200") == before + 1
    assert route_of(request) == "/api/recipes/{id}"  # the template, never the id itself
    with pytest.raises(web.HTTPNotFound):
        await metrics_middleware(request, broken)
    assert value("rolecall_web_requests_total", route="/api/recipes/{id}", status="404") >= 1


def test_admission_refusals_are_counted_by_code() -> None:
    from worker.web.admission import too_many

    before = value("rolecall_web_admission_refusals_total", code="rate_limited")
    error: Any = too_many("rate_limited", "slow down", 3.2)
    assert error.status == 429
    assert value("rolecall_web_admission_refusals_total", code="rate_limited") == before + 1
