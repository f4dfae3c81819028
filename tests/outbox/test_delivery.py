"""The main process's delivery loop against a real receiver on loopback: signatures, retries, 410, dead
letters, a receiver that is down, two workers on one spool, and a session process that really dies.

The receiver is `tests.session.app_server.AppServer` (it verifies with the `standardwebhooks` package);
the schedule is short (`0.2,0.4` s) so that days of retries fit in a test.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.outbox.conftest import (
    RAW_SECRET,
    SECRET,
    records_of,
    running,
    settings_for,
    spool_of,
    until,
    where,
    write_session,
)
from tests.session.app_server import AppServer
from tests.support.livekit_server import free_port
from worker.metrics import DeliveryMetrics
from worker.outbox import Outbox
from worker.outbox.spool import Claim

pytestmark = pytest.mark.integration  # a real receiver on loopback (and, below, a real process killed)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def hook() -> AsyncIterator[AppServer]:
    server = AppServer(RAW_SECRET)
    await server.start()
    yield server
    await server.stop()


def url(server: AppServer) -> str:
    return f"http://127.0.0.1:{server.port}/hook"


def counted(outbox: Outbox, name: str, **labels: str) -> float:
    """A delivery metric of `outbox` as /metrics shows it (`worker.metrics.DeliveryMetrics`)."""
    registry = CollectorRegistry()
    registry.register(DeliveryMetrics(outbox.stats))
    assert name in generate_latest(registry).decode()
    return registry.get_sample_value(name, labels) or 0.0


async def test_a_finished_report_arrives_once_as_a_signed_event(tmp_path: Path, hook: AppServer) -> None:
    settings = settings_for(tmp_path, url(hook), webhook_secret=SECRET, webhook_secret_previous=RAW_SECRET)
    spool = spool_of(settings)
    event_id, _ = write_session(spool, lines=4)
    async with running(Outbox(settings)):
        await until(lambda: where(spool, event_id) == "done", what="delivery")
    (attempt,) = hook.hook_attempts
    assert [r.envelope["id"] for r in hook.received] == [event_id]
    envelope = attempt.envelope
    assert envelope["type"] == "session.ended" and envelope["version"] == 1
    assert envelope["id"] == attempt.headers["webhook-id"] == event_id
    assert envelope["created_at"].endswith("Z")
    report = envelope["data"]
    assert [line["text"] for line in report["transcript"]] == ["line 0", "line 1", "line 2", "line 3"]
    assert report["complete"] is True and report["end_reason"] == "end_session"
    # Rotation: two signatures, one per secret; a receiver holding either one verifies.
    assert len(attempt.headers["webhook-signature"].split(" ")) == 2
    for receiver in (Webhook(SECRET), Webhook(RAW_SECRET.encode())):
        assert receiver.verify(attempt.raw, attempt.headers)["id"] == event_id
    with pytest.raises(WebhookVerificationError):
        Webhook(b"another-secret-entirely").verify(attempt.raw, attempt.headers)
    assert records_of(spool.done / f"{event_id}.jsonl").outcome == "delivered"


async def test_500s_and_timeouts_are_retried_with_the_same_id_and_body_until_delivered(
    tmp_path: Path, hook: AppServer
) -> None:
    hook.hook_script = ["500", "hang", "500"]
    hook.hang_s = 3.0  # over the attempt timeout (1 s)
    settings = settings_for(tmp_path, url(hook))
    spool = spool_of(settings)
    event_id, _ = write_session(spool)
    async with running(Outbox(settings)) as outbox:
        await until(lambda: counted(outbox, "rolecall_reports_pending") == 1, what="the report pending")
        await until(lambda: where(spool, event_id) == "done", what="delivery after three failures")
        assert counted(outbox, "rolecall_reports_pending") == 0
    assert counted(outbox, "rolecall_report_attempts_total", result="failed") == 3
    assert counted(outbox, "rolecall_report_attempts_total", result="delivered") == 1
    assert [r.headers["webhook-id"] for r in hook.hook_attempts] == [event_id] * 4
    assert len({json.dumps(r.envelope, sort_keys=True) for r in hook.hook_attempts}) == 1  # same body
    assert len(hook.received) == 1
    attempts = records_of(spool.done / f"{event_id}.jsonl").attempts
    assert [a["status"] for a in attempts] == [500, None, 500, 200]
    assert "no answer within 1 s" in attempts[1]["error"]


async def test_410_gone_stops_the_attempts(
    tmp_path: Path, hook: AppServer, caplog: pytest.LogCaptureFixture
) -> None:
    hook.hook_script = ["410"]
    settings = settings_for(tmp_path, url(hook))
    spool = spool_of(settings)
    event_id, _ = write_session(spool)
    with caplog.at_level(logging.WARNING, logger="rolecall.outbox"):
        async with running(Outbox(settings)) as outbox:
            await until(lambda: where(spool, event_id) == "dead", what="the 410 to stop it")
            for _ in range(3):  # scans after the schedule's longest delay: nothing more is sent
                await outbox.scan()
            assert outbox.pending() == 0
    assert len(hook.hook_attempts) == 1 and hook.received == []
    assert counted(outbox, "rolecall_reports_dead_lettered_total", why="gone") == 1
    assert counted(outbox, "rolecall_report_attempts_total", result="gone") == 1
    assert any("410 Gone" in r.getMessage() for r in caplog.records)


async def test_after_the_last_attempt_the_report_is_dead_lettered_with_an_error_line(
    tmp_path: Path, hook: AppServer, caplog: pytest.LogCaptureFixture
) -> None:
    hook.hook_script = ["500"] * 100
    settings = settings_for(tmp_path, url(hook), webhook_retry_s="0.1", webhook_give_up_s=0.5)
    spool = spool_of(settings)
    event_id, _ = write_session(spool)
    with caplog.at_level(logging.WARNING, logger="rolecall.outbox"):
        async with running(Outbox(settings)) as outbox:
            await until(lambda: where(spool, event_id) == "dead", what="the dead letter")
            assert outbox.pending() == 0
    assert counted(outbox, "rolecall_reports_dead_lettered_total", why="exhausted") == 1
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and event_id in errors[0].getMessage()
    assert "reports resend" in errors[0].getMessage()
    assert 2 <= len(hook.hook_attempts) <= 7  # attempts 0.1 s apart for 0.5 s
    assert records_of(spool.dead / f"{event_id}.jsonl").outcome == "dead"


async def test_a_receiver_that_is_down_gets_the_report_once_it_is_up(tmp_path: Path) -> None:
    port = free_port()
    hook = AppServer(RAW_SECRET)
    settings = settings_for(tmp_path, f"http://127.0.0.1:{port}/hook")
    spool = spool_of(settings)
    event_id, _ = write_session(spool)
    path = spool.outbox / f"{event_id}.jsonl"
    async with running(Outbox(settings)):
        await until(lambda: len(records_of_if_free(path)) >= 2, what="two refused attempts")
        await hook.start(port)
        try:
            await until(lambda: where(spool, event_id) == "done", what="delivery once the receiver is up")
        finally:
            await hook.stop()
    assert [r.envelope["id"] for r in hook.received] == [event_id]
    failed = records_of(spool.done / f"{event_id}.jsonl").attempts[:-1]
    assert failed and all(a["status"] is None and "Connect" in a["error"] for a in failed)


def records_of_if_free(path: Path) -> list[dict[str, object]]:
    """The attempts recorded in `path` so far ([] while the Outbox holds it or it has moved)."""
    try:
        return list(records_of(path).attempts)
    except (AssertionError, FileNotFoundError):
        return []


async def test_two_workers_on_one_spool_deliver_each_report_once(tmp_path: Path, hook: AppServer) -> None:
    settings = settings_for(tmp_path, url(hook))
    spool = spool_of(settings)
    ids = [write_session(spool, room=f"room-{i}")[0] for i in range(12)]
    async with running(Outbox(settings)), running(Outbox(settings)):
        await until(lambda: all(where(spool, i) == "done" for i in ids), what="every delivery")
    assert sorted(r.envelope["id"] for r in hook.hook_attempts) == sorted(ids)


async def test_without_a_webhook_reports_are_kept_for_the_pull_cli(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    spool = spool_of(settings)
    event_id, _ = write_session(spool)
    async with running(Outbox(settings)):
        await until(lambda: where(spool, event_id) == "done", what="the report kept")
    assert records_of(spool.done / f"{event_id}.jsonl").outcome == "kept"


WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from tests.outbox.conftest import settings_for, spool_of, write_session
    spool = spool_of(settings_for(Path(sys.argv[1])))
    event_id, writer = write_session(spool, lines=5, finish=False)
    print(event_id, flush=True)
    time.sleep(600)
    """
)


async def test_a_session_process_killed_mid_session_is_reported_from_its_checkpoints(
    tmp_path: Path, hook: AppServer
) -> None:
    settings = settings_for(tmp_path, url(hook))
    spool = spool_of(settings)
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        event_id = proc.stdout.readline().strip()
        async with running(Outbox(settings)) as outbox:
            for _ in range(4):  # the session's process is alive: its file is left alone
                await outbox.scan()
            assert hook.hook_attempts == [] and where(spool, event_id) == "outbox"
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            await until(lambda: where(spool, event_id) == "done", what="the crash report")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    (received,) = hook.received
    report = received.body
    assert report["end_reason"] == "crashed" and report["complete"] is False
    assert counted(outbox, "rolecall_crash_reports_total") == 1
    assert [line["text"] for line in report["transcript"]] == [f"line {i}" for i in range(5)]
    assert report["role_versions"][0] == {
        "role": "bench",
        "version": "0123456789ab",
        "at": report["started_at"],
        "reason": "start",
    }


async def test_a_new_run_reports_what_a_killed_run_left_unfinished_or_undelivered(
    tmp_path: Path, hook: AppServer
) -> None:
    settings = settings_for(tmp_path, url(hook), webhook_retry_s="3600")  # only a new run retries soon
    spool = spool_of(settings)
    hook.hook_script = ["500"]
    pending, _ = write_session(spool, room="room-2")
    async with running(Outbox(settings)):
        await until(lambda: len(hook.hook_attempts) == 1, what="the failed attempt")
    assert where(spool, pending) == "outbox"  # its next attempt is in an hour
    unfinished, writer = write_session(spool, lines=2, finish=False)
    writer.close()  # as if its process had died with the worker: unheld, no final record
    async with running(Outbox(settings)):  # the worker starts again
        await until(lambda: where(spool, pending) == where(spool, unfinished) == "done", what="both reports")
    assert sorted(r.envelope["id"] for r in hook.received) == sorted([unfinished, pending])
    crashed = next(r.body for r in hook.received if r.envelope["id"] == unfinished)
    assert crashed["end_reason"] == "crashed" and len(crashed["transcript"]) == 2


async def test_an_outbox_closed_as_an_attempt_ends_has_let_go_of_the_file(
    tmp_path: Path, hook: AppServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A slow unlock widens the moment between a report's move and its file's release; an outbox closed
    # then must still have let go of the file when `aclose` returns (a task cut off there once kept it).
    release = Claim.release

    def slow_release(claim: Claim) -> None:
        time.sleep(0.3)
        release(claim)

    monkeypatch.setattr(Claim, "release", slow_release)
    hook.hook_script = ["410"]
    settings = settings_for(tmp_path, url(hook))
    spool = spool_of(settings)
    event_id, _ = write_session(spool)
    async with running(Outbox(settings)):
        await until(lambda: where(spool, event_id) == "dead", what="the report moved on")
    monkeypatch.undo()
    claim = Claim.take(spool.dead / f"{event_id}.jsonl")
    assert claim is not None, "the closed outbox still holds the report's file"
    claim.release()
