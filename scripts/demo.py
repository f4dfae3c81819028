"""`make demo`: start the RoleCall stack as local processes, print what runs where, stop on Ctrl+C.

The LiveKit server runs in dev mode (keys `devkey` / `secret`). Without OPENAI_API_KEY the simulator
stands in for OpenAI, and the worker is pointed at it. The web backend serves the demo page and the
session API on http://localhost:8080. With ROLECALL_DEMO_API=live the starter roles run on GPT-Live:
worker and web read their GPT-Live variant (`python -m worker roles live-variant`), written afresh under
.tools/ at each start (so edits to roles/ apply at the next `make demo`, not live).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
LIVEKIT = ROOT / ".tools" / "bin" / "livekit-server"
LOG_DIR = ROOT / ".tools" / "demo-logs"
LIVE_ROLES = ROOT / ".tools" / "demo-roles-live"
DEMO_API_ENV = "ROLECALL_DEMO_API"


@dataclass
class Service:
    name: str
    argv: list[str]
    port: int
    url: str
    env: dict[str, str] = field(default_factory=dict)
    ready_text: str = ""
    """When set, the service is ready once its log contains this (it has no port of its own)."""
    proc: subprocess.Popen[bytes] | None = None


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _ready(svc: Service) -> bool:
    if svc.ready_text:
        log = LOG_DIR / f"{svc.name}.log"
        return log.is_file() and svc.ready_text in log.read_text(errors="replace")
    return _port_open(svc.port)


def _common_env() -> dict[str, str]:
    """What every service gets: the dev server's keys, and one tool secret shared by worker and web."""
    return {
        "LIVEKIT_URL": "ws://localhost:7880",
        "LIVEKIT_API_KEY": "devkey",
        "LIVEKIT_API_SECRET": "secret",
        # The worker signs http tool calls with it; the web backend's recipe search verifies them.
        "ROLECALL_TOOL_SECRET": os.environ.get("ROLECALL_TOOL_SECRET") or secrets.token_hex(32),
        # Live events go to the demo's app backend (the web backend), which tells the agent when the
        # cooking guide's timer ends (worker/web/demo_events.py); both sign and verify with this secret.
        "ROLECALL_EVENTS_URL": os.environ.get("ROLECALL_EVENTS_URL")
        or "http://127.0.0.1:8080/api/demo/events",
        "ROLECALL_WEBHOOK_SECRET": os.environ.get("ROLECALL_WEBHOOK_SECRET") or secrets.token_hex(32),
    }


def _services() -> list[Service]:
    dotenv = ROOT / ".env"
    if dotenv.is_file():
        from dotenv import dotenv_values

        for key, value in dotenv_values(dotenv).items():
            if value is not None:
                os.environ.setdefault(key, value)
    services = [
        Service(
            "livekit-server",
            [str(LIVEKIT), "--dev", "--bind", "127.0.0.1", "--node-ip", "127.0.0.1"],
            7880,
            "ws://localhost:7880 (keys: devkey / secret)",
        )
    ]
    if not os.environ.get("OPENAI_API_KEY"):
        scenario = ROOT / "scenarios" / "demo.yaml"
        argv = [PY, "-m", "worker", "simulate", "--port", "8765"]
        if scenario.is_file():
            argv += ["--scenario", str(scenario)]
        services.append(
            Service("simulator", argv, 8765, "http://127.0.0.1:8765/v1 (OpenAI Realtime and GPT-Live)")
        )
    worker_env = {} if os.environ.get("OPENAI_API_KEY") else {"OPENAI_BASE_URL": "http://127.0.0.1:8765/v1"}
    roles_env, roles_note = _roles()
    services.append(
        Service(
            "worker",
            [PY, "-m", "worker", "dev", "--log-level", "INFO"],
            0,
            f"agent 'rolecall', {roles_note}",
            env={**worker_env, **roles_env},
            ready_text="registered worker",
        )
    )
    services.append(
        Service(
            "web",
            [PY, "-m", "worker", "web", "--port", "8080"],
            8080,
            "http://localhost:8080 (open this in a browser)",
            env=roles_env,
        )
    )
    return services


def _roles() -> tuple[dict[str, str], str]:
    """The roles directory worker and web read: roles/, or its GPT-Live variant (ROLECALL_DEMO_API=live)."""
    api = os.environ.get(DEMO_API_ENV, "realtime")
    if api not in ("realtime", "live"):
        raise SystemExit(f"error: {DEMO_API_ENV} must be realtime or live, not {api!r}")
    if api == "realtime":
        return {}, "roles from roles/ (edits apply live)"
    import shutil

    from worker.roles.live_variant import write_live_variant

    shutil.rmtree(LIVE_ROLES, ignore_errors=True)
    write_live_variant(ROOT / "roles", LIVE_ROLES)
    return {"ROLECALL_ROLES_DIR": str(LIVE_ROLES)}, f"roles on GPT-Live from {LIVE_ROLES}/"


def main() -> int:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    services = _services()
    common = _common_env()
    if not os.environ.get("OPENAI_API_KEY"):
        print("OPENAI_API_KEY is not set: the simulator stands in for OpenAI (see README, 'The simulator').")
    busy = [s for s in services if s.port and _port_open(s.port)]
    if busy:
        for s in busy:
            print(f"error: port {s.port} ({s.name}) is already in use; stop what runs there and retry.")
        return 1
    try:
        for svc in services:
            log = open(LOG_DIR / f"{svc.name}.log", "wb")  # noqa: SIM115
            svc.proc = subprocess.Popen(
                svc.argv, cwd=ROOT, env={**os.environ, **common, **svc.env}, stdout=log, stderr=log
            )
            deadline = time.monotonic() + 60
            while not _ready(svc):
                if svc.proc.poll() is not None or time.monotonic() > deadline:
                    print(f"error: {svc.name} did not start; see {LOG_DIR / (svc.name + '.log')}")
                    return 1
                time.sleep(0.1)
        print("\nRoleCall demo is running:")
        for svc in services:
            print(f"  {svc.name:<15} {svc.url}")
        print(f"\nLogs in {LOG_DIR}. Press Ctrl+C to stop.")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while all(s.proc is not None and s.proc.poll() is None for s in services):
            time.sleep(0.5)
        dead = [s.name for s in services if s.proc is not None and s.proc.poll() is not None]
        print(f"error: {', '.join(dead)} stopped; see {LOG_DIR}")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for svc in reversed(services):
            if svc.proc is not None and svc.proc.poll() is None:
                svc.proc.terminate()
                try:
                    svc.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    svc.proc.kill()


if __name__ == "__main__":
    raise SystemExit(main())
