"""Session reports on the real stack (livekit-server, the worker, the simulator, a receiver the test
controls): a receiver down, failing, timing out or gone; a job process and a whole worker SIGKILLed; a
SIGTERM drain while the receiver is down; the role's analysis and the role versions in the report.

The worker retries on a short schedule (0.3 s, then every 0.6 s); each test says what it breaks.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.outbox.conftest import RAW_SECRET, records_of, until
from tests.session.app_server import AppServer
from tests.session.conftest import Stack, make_stack
from tests.support.livekit_server import LiveKitServer, free_port
from tests.support.ui_participant import UIParticipant
from tests.support.worker_process import WorkerProcess
from worker.outbox.spool import SpoolDir
from worker.simulator.scenario import Scenario

pytestmark = pytest.mark.integration

HOOK_PORT = free_port()
GOOD = {
    "summary": "The user picked pasta al limone.",
    "data": {"dish": "pasta al limone"},
    "success": [{"met": True, "reason": "they chose pasta"}],
}
SCENARIO = f"""
out_of_band:
  - metadata: {{rolecall: analysis, role: report-analysis}}
    json: {json.dumps(GOOD)}
  - metadata: {{rolecall: analysis, role: report-analysis-bad}}
    json: {{summary: The user picked pasta., data: {{dish: 42}}, success: [{{met: true}}]}}
"""
ANALYSED_ROLE = """
name: {name}
title: Analysed
description: A role with a post-call analysis.
greeting: {{say: Hello there.}}
instructions: You are a cooking guide.
analysis:
  summary: {{instructions: One sentence.}}
  data:
    schema: {{type: object, properties: {{dish: {{type: string}}}}, required: [dish]}}
  success:
    criteria: [The user chose a recipe.]
tools:
  - {{name: to_second, kind: handoff, description: Hand over., target: bench-second}}
"""


@pytest.fixture(scope="module")
def stack(livekit_server: LiveKitServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from make_stack(
        livekit_server,
        tmp_path_factory,
        mode="start",
        scenario=Scenario.from_yaml(SCENARIO),
        ROLECALL_HEALTH_PORT="0",
        ROLECALL_IDLE_PROCESSES="1",
        ROLECALL_WEBHOOK_URL=f"http://127.0.0.1:{HOOK_PORT}/hook",
        ROLECALL_WEBHOOK_SECRET=RAW_SECRET,
        ROLECALL_WEBHOOK_RETRY_S="0.3,0.6",
        ROLECALL_WEBHOOK_TIMEOUT_S="1",
        ROLECALL_ANALYSIS_TIMEOUT_S="10",
    )


@pytest.fixture(scope="module")
def hook(stack: Stack) -> Iterator[AppServer]:
    """The receiver; down until a test starts it (`up`), and down again after each test."""
    server = AppServer(RAW_SECRET)
    yield server
    stack.simulator.call(server.stop())


def up(stack: Stack, hook: AppServer, *script: str) -> None:
    hook.hook_script = list(script)
    stack.simulator.call(hook.start(HOOK_PORT))


def down(stack: Stack, hook: AppServer) -> None:
    stack.simulator.call(hook.stop())


def spool(stack: Stack) -> SpoolDir:
    return SpoolDir.of(Path(stack.worker.env["ROLECALL_SPOOL_DIR"]), stack.agent_name)


def session_file(stack: Stack, room: str) -> tuple[str, Path] | None:
    """(folder, path) of the spool file of the session in `room`."""
    s = spool(stack)
    for folder in (s.outbox, s.done, s.dead):
        for path in s.files(folder):
            start = json.loads(path.read_bytes().split(b"\n", 1)[0])
            if start.get("room") == room:
                return folder.name, path
    return None


def lines_in_spool(stack: Stack, room: str) -> int:
    found = session_file(stack, room)
    if found is None:
        return 0
    return sum(1 for raw in found[1].read_bytes().splitlines() if raw.startswith(b'{"t":"line"'))


def accepted(hook: AppServer, room: str) -> list[dict[str, Any]]:
    return [r.envelope for r in hook.received if r.body.get("room") == room]


async def talk(ui: UIParticipant, *words: str) -> None:
    await ui.wait_for(lambda: "Hello" in ui.agent_text(), what="greeting")
    for word in words:
        await ui.say_text(f"/say {word}")
        await ui.wait_for(lambda w=word: w in ui.agent_text(), what=f"the agent saying {word}")


def restart_worker(stack: Stack, name: str) -> None:
    """A new worker on the same spool and settings (the old one is gone)."""
    log = Path(stack.worker.log_path).with_name(f"worker-{name}.log")
    env = {k: v for k, v in stack.worker.env.items() if k != "PYTHONUNBUFFERED"}
    stack.worker = WorkerProcess(env, log, mode=stack.worker.mode).start()


async def test_a_receiver_down_then_failing_then_slow_gets_the_report_once(
    stack: Stack, hook: AppServer
) -> None:
    ui = await stack.session("bench")
    await talk(ui, "apples")
    await ui.leave()  # the session ends after the grace period, while the receiver is down
    await until(lambda: session_file(stack, ui.room_name), timeout=30, what="the spool file")
    path = await until(
        lambda: (
            (f := session_file(stack, ui.room_name))
            and f[0] == "outbox"
            and len(_attempts(f[1])) >= 2
            and f[1]
        ),
        timeout=30,
        what="two refused attempts",
    )
    up(stack, hook, "500", "hang")  # then a 500, then an answer after the 1 s timeout, then OK
    came_up = time.monotonic()
    try:
        await until(lambda: accepted(hook, ui.room_name), timeout=30, what="the report")
        print(f"\nreceiver up (500, timeout, 200) -> report accepted: {time.monotonic() - came_up:.2f} s")
        await asyncio.sleep(1.5)  # more than the schedule's longest delay: nothing more comes
        attempts = [r for r in hook.hook_attempts if r.body.get("room") == ui.room_name]
        assert len(attempts) == 3 and len({r.headers["webhook-id"] for r in attempts}) == 1
        (event,) = accepted(hook, ui.room_name)
        assert event["id"] == path.stem and event["data"]["complete"] is True
        said = [(t["speaker"], t["text"]) for t in event["data"]["transcript"]]
        assert ("user", "/say apples") in said and ("agent", "apples") in said
        statuses = [a["status"] for a in records_of(spool(stack).done / path.name).attempts]
        assert statuses[:2] == [None, None] and statuses[-3:] == [500, None, 200]
    finally:
        down(stack, hook)


def _attempts(path: Path) -> list[dict[str, Any]]:
    out = []
    for raw in path.read_bytes().splitlines():
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        if record.get("t") == "attempt":
            out.append(record)
    return out


async def test_410_gone_stops_the_attempts(stack: Stack, hook: AppServer) -> None:
    up(stack, hook, "410")
    try:
        ui = await stack.session("bench")
        await talk(ui)
        await ui.leave()
        await until(
            lambda: (f := session_file(stack, ui.room_name)) and f[0] == "dead",
            timeout=30,
            what="the dead letter",
        )
        await asyncio.sleep(1.5)
        assert len([r for r in hook.hook_attempts if r.body.get("room") == ui.room_name]) == 1
        assert accepted(hook, ui.room_name) == []
    finally:
        down(stack, hook)


async def test_a_sigkilled_job_process_is_reported_with_every_line_up_to_the_kill(
    stack: Stack, hook: AppServer
) -> None:
    up(stack, hook)
    try:
        ui = await stack.session("bench")
        await talk(ui, "one", "two", "three")
        await until(lambda: lines_in_spool(stack, ui.room_name) >= 7, what="every line checkpointed")
        found = session_file(stack, ui.room_name)
        assert found is not None
        start = json.loads(found[1].read_bytes().split(b"\n", 1)[0])
        assert start["pid"] != stack.worker.proc.pid  # type: ignore[union-attr]
        lines_before = [
            (r["speaker"], r["text"])
            for r in (json.loads(x) for x in found[1].read_bytes().splitlines())
            if r["t"] == "line"
        ]
        killed = time.monotonic()
        os.kill(start["pid"], signal.SIGKILL)
        event = (await until(lambda: accepted(hook, ui.room_name), timeout=30, what="the crash report"))[0]
        print(f"\njob process SIGKILL -> crash report accepted: {time.monotonic() - killed:.2f} s")
        report = event["data"]
        assert report["end_reason"] == "crashed" and report["complete"] is False
        said = [(t["speaker"], t["text"]) for t in report["transcript"]]
        assert said == lines_before
        for word in ("one", "two", "three"):
            assert ("user", f"/say {word}") in said and ("agent", word) in said
        assert "ended without its report" in stack.worker.log()
        await ui.leave()
    finally:
        down(stack, hook)


async def test_the_analysis_and_the_role_versions_are_in_the_report(stack: Stack, hook: AppServer) -> None:
    for name in ("report-analysis", "report-analysis-bad"):
        stack.write_role(name, ANALYSED_ROLE.format(name=name))
    up(stack, hook)
    try:
        reports = {}
        for name in ("report-analysis", "report-analysis-bad"):
            ui = await stack.session(name)
            await talk(ui, "pasta")
            await ui.say_text('/call to_second {"summary": "wants pasta"}')
            await ui.wait_for(
                lambda u=ui: u.agent_attribute("rolecall.role") == "bench-second", what="the handoff"
            )
            await ui.leave()
            event = (await until(lambda r=ui.room_name: accepted(hook, r), timeout=40, what="the report"))[0]
            reports[name] = event["data"]
    finally:
        down(stack, hook)
    good, bad = reports["report-analysis"], reports["report-analysis-bad"]
    assert good["analysis"]["status"] == "ok"
    assert good["analysis"]["summary"] == GOOD["summary"] and good["analysis"]["data"] == GOOD["data"]
    assert good["analysis"]["success"] == [
        {"criterion": "The user chose a recipe.", "met": True, "reason": "they chose pasta"}
    ]
    assert bad["analysis"]["status"] == "failed"
    assert "data.dish: 42 is not of type 'string'" in bad["analysis"]["error"]
    assert bad["complete"] is True and ("agent", "pasta") in [
        (t["speaker"], t["text"]) for t in bad["transcript"]
    ]
    from worker.roles import RoleRegistry

    registry = RoleRegistry(stack.roles_dir)
    versions = [(v["role"], v["version"], v["reason"]) for v in good["role_versions"]]
    assert versions == [
        ("report-analysis", registry.get("report-analysis").version, "start"),
        ("bench-second", registry.get("bench-second").version, "handoff"),
    ]
    assert f"role report-analysis version {versions[0][1]}" in stack.worker.log()


async def test_a_sigkilled_worker_s_sessions_are_reported_by_the_next_worker(
    stack: Stack, hook: AppServer
) -> None:
    up(stack, hook)
    try:
        users = [await stack.session("bench") for _ in range(2)]
        for i, ui in enumerate(users):
            await talk(ui, f"before the kill {i}")
        for ui in users:
            await until(lambda r=ui.room_name: lines_in_spool(stack, r) >= 3, what="lines checkpointed")
        assert stack.worker.proc is not None
        os.killpg(stack.worker.proc.pid, signal.SIGKILL)  # the worker and its job processes
        stack.worker.proc.wait()
        await asyncio.sleep(1.0)
        assert all(accepted(hook, ui.room_name) == [] for ui in users)  # nobody left to report them
        started = time.monotonic()
        restart_worker(stack, "after-kill")
        registered = time.monotonic()
        for i, ui in enumerate(users):
            event = (await until(lambda r=ui.room_name: accepted(hook, r), timeout=30, what="a report"))[0]
            print(
                f"\nworker SIGKILL, new worker: report {i + 1} of 2 accepted {time.monotonic() - started:.2f} s after "
                f"its start ({registered - started:.2f} s to register with LiveKit)"
            )
            said = [(t["speaker"], t["text"]) for t in event["data"]["transcript"]]
            assert ("agent", f"before the kill {i}") in said
            assert event["data"]["end_reason"] == "crashed"
            await ui.leave()
    finally:
        down(stack, hook)


async def test_a_sigterm_drain_while_the_receiver_is_down_loses_nothing(
    stack: Stack, hook: AppServer
) -> None:
    ui = await stack.session("bench")
    await talk(ui, "drained")
    assert stack.worker.proc is not None
    stack.worker.signal(signal.SIGTERM)
    await ui.say_text("/say still here")
    await ui.wait_for(lambda: "still here" in ui.agent_text(), what="a reply while draining")
    await ui.leave()  # the session ends after the grace period; the worker then exits
    code = await asyncio.to_thread(stack.worker.proc.wait, 60)
    found = session_file(stack, ui.room_name)
    assert found is not None and found[0] == "outbox", found  # undelivered, but on disk
    records = records_of(found[1])
    assert records.finished and records.attempts and all(a["status"] is None for a in records.attempts)
    print(f"\nworker exited with {code}; {len(records.attempts)} refused attempt(s) before it did")
    up(stack, hook)
    try:
        started = time.monotonic()
        restart_worker(stack, "after-drain")
        (event,) = await until(lambda: accepted(hook, ui.room_name), timeout=30, what="the report")
        print(f"delivered {time.monotonic() - started:.1f} s after the new worker was started")
        report = event["data"]
        assert report["complete"] is True and report["end_reason"] == "user_left"
        said = [(t["speaker"], t["text"]) for t in report["transcript"]]
        assert ("agent", "drained") in said and ("agent", "still here") in said
    finally:
        down(stack, hook)
