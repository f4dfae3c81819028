"""The spool file, its records and the event built from them; the schedule; the secrets (no network)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from tests.outbox.conftest import AGENT, RAW_SECRET, SECRET, records_of, settings_for, spool_of, write_session
from worker.outbox.delivery import RetryPolicy
from worker.outbox.envelope import Signer, new_secret, secret_problem
from worker.outbox.records import ANALYSIS_LOST, SpoolRecords, UnreadableSpoolFile
from worker.outbox.spool import Claim, SpoolDir, agent_folder
from worker.settings import Settings, SettingsError

pytestmark = pytest.mark.unit


def test_a_session_file_is_held_while_its_session_runs_and_free_once_it_is_finished(tmp_path: Path) -> None:
    spool = spool_of(settings_for(tmp_path))
    event_id, writer = write_session(spool, finish=False)
    path = spool.outbox / f"{event_id}.jsonl"
    assert Claim.take(path) is None  # the session's lock: a deliverer keeps off
    assert oct(path.stat().st_mode & 0o777) == "0o600" and oct(spool.root.stat().st_mode & 0o777) == "0o700"
    writer.finish("final", {"report": {}})
    claim = Claim.take(path)
    assert claim is not None
    claim.release()
    assert [n for n in os.listdir(spool.outbox) if n.startswith(".tmp-")] == []


def test_a_finished_file_gives_the_final_report_and_an_unfinished_one_its_checkpoints(tmp_path: Path) -> None:
    spool = spool_of(settings_for(tmp_path))
    done, _ = write_session(spool, lines=3)
    records = records_of(spool.outbox / f"{done}.jsonl")
    assert records.finished and records.report({}).complete
    unfinished, writer = write_session(spool, lines=3, finish=False)
    writer.append("tool", {"name": "show", "kind": "frontend", "arguments": {}, "outcome": "ok",
                           "latency_ms": 3.0, "role": "bench", "at": 5.0})  # fmt: skip
    writer.append("role", {"role": "bench-second", "version": "abc", "at": 6.0, "reason": "handoff"})
    writer.append("usage", {"text_in": 10, "audio_out": 2000})
    writer.close()
    report = records_of(spool.outbox / f"{unfinished}.jsonl").report({})
    assert report.complete is False and report.end_reason == "crashed"
    assert [line.text for line in report.transcript] == ["line 0", "line 1", "line 2"]
    assert [c.name for c in report.tool_calls] == ["show"]
    assert report.roles == ["bench", "bench-second"]
    assert [v.version for v in report.role_versions] == ["0123456789ab", "abc"]
    assert report.usage.audio_out == 2000 and report.cost_usd is None  # no price table given
    assert report.ended_at == max(line.at for line in report.transcript)  # the last sign of life


def test_a_process_killed_mid_write_leaves_a_torn_line_that_is_skipped_and_closed_off(tmp_path: Path) -> None:
    spool = spool_of(settings_for(tmp_path))
    event_id, writer = write_session(spool, lines=2, finish=False)
    path = spool.outbox / f"{event_id}.jsonl"
    writer.close()
    with open(path, "ab") as f:
        f.write(b'{"t":"line","speaker":"user","te')  # the kill landed mid-write
    claim = Claim.take(path)
    assert claim is not None
    claim.append("crashed", {"at": 9.0})
    records = SpoolRecords.parse(claim.read())
    claim.release()
    assert records.crashed_at == 9.0 and len(records.report({}).transcript) == 2


def test_a_crash_during_the_analysis_keeps_the_end_reason_already_decided(tmp_path: Path) -> None:
    spool = spool_of(settings_for(tmp_path))
    event_id, writer = write_session(spool, lines=1, finish=False)
    writer.append("ended", {"end_reason": "user_left", "ended_at": 7.0, "analysis": True})
    writer.close()
    report = records_of(spool.outbox / f"{event_id}.jsonl").report({})
    assert (report.end_reason, report.complete, report.ended_at) == ("user_left", False, 7.0)
    assert report.analysis is not None and report.analysis.error == ANALYSIS_LOST


def test_a_file_without_a_start_record_is_unreadable() -> None:
    with pytest.raises(UnreadableSpoolFile):
        SpoolRecords.parse([{"t": "line", "text": "x"}])


def test_the_event_is_the_same_on_every_attempt(tmp_path: Path) -> None:
    spool = spool_of(settings_for(tmp_path))
    event_id, writer = write_session(spool, finish=False)
    writer.close()
    path = spool.outbox / f"{event_id}.jsonl"
    claim = Claim.take(path)
    assert claim is not None
    claim.append("crashed", {"at": 1764583200.5})
    first = SpoolRecords.parse(claim.read()).event({}).body()
    claim.append("attempt", {"at": 1764583201.0, "status": 500, "error": "HTTP 500"})
    again = SpoolRecords.parse(claim.read()).event({}).body()
    claim.release()
    assert first == again
    event = json.loads(first)
    assert event["id"] == event_id and event["created_at"] == "2025-12-01T10:00:00.500Z"


def test_the_retry_schedule_waits_each_delay_then_repeats_the_last_until_it_gives_up() -> None:
    policy = RetryPolicy((5.0, 30.0), give_up_s=100.0)
    assert policy.next_at([]) == 0.0
    assert policy.next_at([{"at": 1000}]) == 1005.0
    assert policy.next_at([{"at": 1000}, {"at": 1005}]) == 1035.0
    assert policy.next_at([{"at": 1000}, {"at": 1005}, {"at": 1035}]) == 1065.0
    assert policy.next_at([{"at": 1000}, {"at": 1005}, {"at": 1035}, {"at": 1065}]) == 1095.0
    assert policy.next_at([{"at": 1000}, {"at": 1005}, {"at": 1035}, {"at": 1065}, {"at": 1095}]) is None


def test_the_default_schedule_is_the_issues() -> None:
    policy = RetryPolicy.from_settings(Settings())
    assert policy.delays_s == (5.0, 30.0, 120.0, 600.0, 3600.0, 21600.0) and policy.give_up_s == 3 * 86400
    at, attempts = 0.0, []
    while (due := policy.next_at(attempts)) is not None:
        at = max(at, due)
        attempts.append({"at": at})
    assert len(attempts) == 17  # at once, 5 s, 30 s, 2 min, 10 min, 1 h, then every 6 h for 3 days


def test_two_secrets_give_two_signatures_and_either_verifies() -> None:
    body = b'{"id":"evt_1"}'
    headers = Signer(SECRET, RAW_SECRET).headers("evt_1", body)
    assert headers["webhook-id"] == "evt_1" and headers["webhook-timestamp"].isdigit()
    assert [s.split(",")[0] for s in headers["webhook-signature"].split(" ")] == ["v1", "v1"]
    assert Webhook(SECRET).verify(body, headers) == {"id": "evt_1"}
    assert Webhook(RAW_SECRET.encode()).verify(body, headers) == {"id": "evt_1"}


def test_webhook_secrets_are_checked_with_a_clear_message_and_never_shown() -> None:
    assert secret_problem(new_secret()) is None and secret_problem(RAW_SECRET) is None
    assert "at least 16 characters" in (secret_problem("short") or "")
    assert "followed by base64" in (secret_problem("whsec_not base64!") or "")
    assert "24 to 64 bytes, found 3" in (secret_problem("whsec_YWJj") or "")
    with pytest.raises(SettingsError) as caught:
        Settings.load(
            {"ROLECALL_WEBHOOK_URL": "http://app/hook", "ROLECALL_WEBHOOK_SECRET": "tiny-secret"},
            None,
            need_livekit=False,
        )
    assert "ROLECALL_WEBHOOK_SECRET: expected at least 16 characters" in str(caught.value)
    assert "tiny-secret" not in str(caught.value)
    with pytest.raises(SettingsError, match="ROLECALL_WEBHOOK_RETRY_S='5,soon': expected seconds"):
        Settings.load({"ROLECALL_WEBHOOK_RETRY_S": "5,soon"}, None, need_livekit=False)


def test_each_agent_name_has_a_folder_of_its_own() -> None:
    assert agent_folder(AGENT) == AGENT
    assert agent_folder("../etc") != agent_folder("_.._etc") and "/" not in agent_folder("../etc")
    assert not agent_folder(".hidden").startswith(".")
    assert SpoolDir.of(Path("/s"), "a/b").root.parent == Path("/s")
