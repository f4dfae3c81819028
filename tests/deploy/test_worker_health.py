"""The worker's health endpoint (worker/server.py): 503 while LiveKit is out of reach, 200 again once
it is back. (livekit-agents' own endpoint says OK until its 16 reconnect attempts are spent.)"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from tests.deploy.topology import Worker, http_get
from tests.support.livekit_server import LiveKitServer
from worker.server import RoleCallServer


def server(port: int = 0) -> RoleCallServer:
    return RoleCallServer(
        health_host="127.0.0.1",
        health_port=port,
        max_sessions=3,
        session_weight=0.7 / 3,
        ws_url="ws://127.0.0.1:1",
        api_key="k",
        api_secret="s" * 32,
        load_threshold=0.7,
        num_idle_processes=1,
    )


@pytest.mark.unit
def test_states(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RoleCallServer, "active_jobs", property(lambda self: []))  # no pool before run()
    s = server()
    try:
        assert s.health().livekit == "connecting" and not s.health().healthy
        s._on_registered("AW_1", None)
        assert s.health().healthy and s.health().livekit == "connected"
        s._connecting = True  # the connection task reconnecting
        assert not s.health().healthy and "not connected" in s.health().reason
        s._connecting = False
        s._connection_failed = True
        assert s.health().livekit == "failed"
    finally:
        s._health_sock.close()


@pytest.mark.unit
def test_a_pending_job_weighs_one_session_not_the_whole_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """livekit-agents' own estimate makes one pending job fill a worker with one warm process."""
    monkeypatch.setattr(RoleCallServer, "active_jobs", property(lambda self: []))
    s = server()
    try:
        s._draining = False
        s._devmode = False  # set by run(): production thresholds
        s._worker_load = 0.0
        s._reserved_slots = 1
        assert s._get_effective_load() == pytest.approx(0.7 / 3)
        assert s._is_available()  # a second user arriving now is accepted at once
        s._reserved_slots = 3
        assert not s._is_available()  # three sessions are this worker's capacity
    finally:
        s._health_sock.close()


@pytest.mark.unit
def test_both_status_servers_bind_loopback_unless_told_otherwise() -> None:
    """RoleCall's endpoint binds ROLECALL_HEALTH_HOST; livekit-agents' own (`/worker`: agent name,
    version, jobs, load) would bind every interface by default and is kept on loopback."""
    s = server()
    try:
        assert s._health_sock.getsockname()[0] == "127.0.0.1"
        assert s._host == "127.0.0.1"
    finally:
        s._health_sock.close()


@pytest.mark.unit
def test_taken_port_fails_at_construction() -> None:
    with socket.create_server(("", 0)) as taken, pytest.raises(OSError):
        server(taken.getsockname()[1])


def listening_addresses(worker: Worker) -> set[str]:
    """Every address a socket of the worker's process tree listens on (TCP)."""
    import psutil

    root = psutil.Process(worker.pid)
    found = set()
    for proc in [root, *root.children(recursive=True)]:
        for conn in proc.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN:
                found.add(conn.laddr.ip)
    return found


def wait_status(port: int, status: int, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if http_get(f"http://127.0.0.1:{port}/")[0] == status:
            return time.monotonic() - start
        time.sleep(0.2)
    raise AssertionError(f"health on port {port} did not become {status} within {timeout}s")


@pytest.mark.integration
def test_health_follows_the_livekit_connection(tmp_path: Path) -> None:
    livekit = LiveKitServer(log_path=tmp_path / "livekit.log").start()
    env = {
        **livekit.env(),
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        "ROLECALL_AGENT_NAME": "rolecall-health-test",
        "ROLECALL_SPOOL_DIR": str(tmp_path / "spool"),
    }
    worker = Worker("w", env, tmp_path / "worker.log")
    try:
        worker.start()
        status, body = worker.health()
        assert status == 200 and body["livekit"] == "connected", body
        assert listening_addresses(worker) == {"127.0.0.1"}

        livekit.stop()
        took = wait_status(worker.health_port, 503, 15)
        print(f"\nhealth turned 503 {took:.1f} s after LiveKit stopped")
        assert worker.health()[1]["reason"].startswith("not connected to LiveKit")

        livekit.start()
        wait_status(worker.health_port, 200, 30)
    finally:
        worker.stop()
        livekit.stop()
