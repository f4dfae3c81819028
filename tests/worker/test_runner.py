"""`python -m worker start|dev|connect` refuse bad settings by name, before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # runs the CLI as a child process

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "OPENAI_", "ROLECALL_"))}
    return subprocess.run(
        [sys.executable, "-m", "worker", *args],
        cwd=tmp_path,  # no .env there
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_start_without_settings_names_each_missing_one(tmp_path: Path) -> None:
    res = _run(["start"], {}, tmp_path)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "LIVEKIT_URL is required (see README, 'Settings')" in res.stderr
    assert "LIVEKIT_API_KEY is required" in res.stderr
    assert "LIVEKIT_API_SECRET is required" in res.stderr


def test_dev_without_an_openai_key_or_simulator_says_how_to_fix_it(tmp_path: Path) -> None:
    env = {"LIVEKIT_URL": "ws://127.0.0.1:1", "LIVEKIT_API_KEY": "k", "LIVEKIT_API_SECRET": "s"}
    res = _run(["dev"], env, tmp_path)
    assert res.returncode == 2
    assert "OPENAI_API_KEY is required (or set OPENAI_BASE_URL to a simulator" in res.stderr


def test_a_roles_folder_without_valid_roles_is_refused(tmp_path: Path) -> None:
    (tmp_path / "roles").mkdir()
    env = {
        "LIVEKIT_URL": "ws://127.0.0.1:1",
        "LIVEKIT_API_KEY": "k",
        "LIVEKIT_API_SECRET": "s",
        "OPENAI_BASE_URL": "http://127.0.0.1:1/v1",
        "ROLECALL_ROLES_DIR": str(tmp_path / "roles"),
    }
    res = _run(["start"], env, tmp_path)
    assert res.returncode == 2
    assert f"error: no valid role in {tmp_path / 'roles'}" in res.stderr


async def test_connect_runs_one_session_in_the_named_room(livekit_server: object, tmp_path: Path) -> None:
    from tests.support.livekit_server import LiveKitServer
    from tests.support.simulator_thread import SimulatorThread
    from tests.support.ui_participant import UIParticipant
    from worker.simulator import SimulatorConfig

    assert isinstance(livekit_server, LiveKitServer)
    sim = SimulatorThread(SimulatorConfig(port=0, speech="tone")).start()
    env = {**os.environ, **livekit_server.env(), "OPENAI_BASE_URL": sim.sim.base_url, "PYTHONUNBUFFERED": "1"}
    with open(tmp_path / "connect.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "worker", "connect", "--room", "connect-test", "--role", "concierge"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    ui = await UIParticipant(livekit_server, "connect-test").join()
    try:
        await ui.wait_for(
            lambda: {"type": "role", "name": "concierge", "title": "Concierge"} in ui.events, timeout=60
        )
        await ui.wait_for(lambda: "Hello" in ui.agent_text(), what="greeting")
        assert ui.calls_to("rolecall.tools")
    finally:
        await ui.leave()
        proc.terminate()
        proc.wait(15)
        sim.stop()


def test_a_worker_that_gives_up_on_livekit_exits_non_zero(tmp_path: Path) -> None:
    """A supervisor (systemd Restart=on-failure, crash-loop alerts) must see the failure."""
    env = {
        "LIVEKIT_URL": "ws://127.0.0.1:9",  # nothing listens there
        "LIVEKIT_API_KEY": "k",
        "LIVEKIT_API_SECRET": "s" * 32,
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        "ROLECALL_ROLES_DIR": str(ROOT / "roles"),
        "ROLECALL_IDLE_PROCESSES": "0",
        "ROLECALL_HEALTH_PORT": "0",
        "ROLECALL_LIVEKIT_MAX_RETRY": "1",
    }
    res = _run(["start"], env, tmp_path)
    assert res.returncode == 1, res.stderr[-2000:]
    assert "gave up connecting to LiveKit at ws://127.0.0.1:9 after 1 attempts" in res.stderr + res.stdout
