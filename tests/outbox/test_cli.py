"""`python -m worker reports`: the pull fallback over the spool (list, show, resend, secret)."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest

from tests.outbox.conftest import AGENT, RAW_SECRET, records_of, settings_for, spool_of, where, write_session
from tests.session.app_server import AppServer
from worker.cli import main
from worker.outbox.envelope import secret_problem
from worker.outbox.spool import Claim


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no .env of the repository
    monkeypatch.setenv("ROLECALL_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("ROLECALL_AGENT_NAME", AGENT)
    for name in ("ROLECALL_WEBHOOK_URL", "ROLECALL_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "spool"


@pytest.mark.unit
def test_list_and_show_every_report_with_its_state(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spool = spool_of(settings_for(env))
    delivered, _ = write_session(spool, room="room-done")
    claim = Claim.take(spool.outbox / f"{delivered}.jsonl")
    assert claim is not None
    claim.append("delivered", {"at": 1.0})
    claim.move_to(spool.done)
    claim.release()
    pending, _ = write_session(spool, room="room-pending")
    running, writer = write_session(spool, room="room-running", finish=False)
    try:
        assert main(["reports", "list"]) == 0
        out = capsys.readouterr().out
        rows = {line.split()[0]: line.split()[1] for line in out.splitlines() if line.startswith("evt_")}
        assert rows == {delivered: "delivered", pending: "pending", running: "running"}
        assert "crashed" not in out  # a running session is not reported as one that died
        assert main(["reports", "list", "--status", "pending"]) == 0
        assert pending in capsys.readouterr().out
        assert main(["reports", "show", "room-done"]) == 0
        event = json.loads(capsys.readouterr().out)
        assert event["id"] == delivered and event["type"] == "session.ended"
        assert main(["reports", "show", "no-such-room"]) == 1
        assert "no report matches no-such-room" in capsys.readouterr().err
    finally:
        writer.close()


@pytest.mark.unit
def test_since_takes_durations_times_and_explains_the_rest(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spool = spool_of(settings_for(env))
    write_session(spool)
    assert main(["reports", "list", "--since", "1h"]) == 0
    assert "1 report(s)" in capsys.readouterr().out
    assert main(["reports", "list", "--since", "2999-01-01T00:00"]) == 0
    assert "0 report(s)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["reports", "list", "--since", "yesterday-ish"])
    assert "expected a duration (30m, 2h, 3d)" in capsys.readouterr().err


@pytest.mark.unit
def test_secret_prints_a_new_standard_webhooks_secret(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reports", "secret"]) == 0
    first = capsys.readouterr().out.strip()
    assert main(["reports", "secret"]) == 0
    assert first.startswith("whsec_") and secret_problem(first) is None
    assert capsys.readouterr().out.strip() != first


@pytest.mark.integration  # a receiver on loopback
def test_resend_delivers_a_dead_letter_again(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = AppServer(RAW_SECRET)
    loop = asyncio.new_event_loop()  # the receiver runs beside the CLI, which runs its own loop
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(hook.start(), loop).result(10)
    try:
        monkeypatch.setenv("ROLECALL_WEBHOOK_URL", f"http://127.0.0.1:{hook.port}/hook")
        monkeypatch.setenv("ROLECALL_WEBHOOK_SECRET", RAW_SECRET)
        spool = spool_of(settings_for(env))
        event_id, _ = write_session(spool)
        claim = Claim.take(spool.outbox / f"{event_id}.jsonl")
        assert claim is not None
        claim.append("attempt", {"at": 1.0, "status": 500, "error": "HTTP 500"})
        claim.append("dead", {"at": 2.0, "reason": "HTTP 500"})
        claim.move_to(spool.dead)
        claim.release()
        assert main(["reports", "resend"]) == 2  # nothing named: refused
        assert main(["reports", "resend", "--status", "dead"]) == 0
        assert f"{event_id}: delivered" in capsys.readouterr().out
        assert where(spool, event_id) == "done"
        records = records_of(spool.done / f"{event_id}.jsonl")
        assert records.outcome == "delivered" and len(records.attempts) == 1  # counted anew
        assert [r.envelope["id"] for r in hook.received] == [event_id]
    finally:
        asyncio.run_coroutine_threadsafe(hook.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
