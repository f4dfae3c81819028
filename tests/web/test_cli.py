"""`python -m worker web` as a real process."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.support.livekit_server import LiveKitServer, free_port
from tests.web.conftest import ROLES, TOOL_SECRET
from worker.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.unit
def test_web_is_a_registered_command() -> None:
    args = build_parser(only="web").parse_args(["web", "--port", "9999", "--host", "0.0.0.0"])
    assert (args.command, args.port, args.host) == ("web", 9999, "0.0.0.0")
    assert callable(args.func)


@pytest.mark.integration
async def test_serves_until_interrupted(livekit_server: LiveKitServer, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        **livekit_server.env(),
        "ROLECALL_TOOL_SECRET": TOOL_SECRET,
        "ROLECALL_ROLES_DIR": str(ROLES),
        "ROLECALL_WEB_STATIC_DIR": str(tmp_path / "no-dist"),
        "PYTHONUNBUFFERED": "1",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "worker",
        "web",
        "--port",
        str(port),
        cwd=tmp_path,  # no .env there: everything comes from the environment above
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    output = b""
    try:
        async with asyncio.timeout(30):
            while f"http://localhost:{port}".encode() not in output:
                line = await proc.stdout.readline()
                assert line, f"web backend exited early:\n{output.decode()}"
                output += line
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/api/health") as resp:
                assert resp.status == 200 and await resp.json() == {"status": "ok"}
            async with http.post(
                f"http://127.0.0.1:{port}/api/session", json={"role": "cooking-guide"}
            ) as resp:
                assert resp.status == 200
    finally:
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(20):
            rest, _ = await proc.communicate()
        output += rest
    assert proc.returncode == 0, output.decode()
    text = output.decode()
    assert "POST /api/session" in text  # the access log
    assert livekit_server.api_secret not in text and TOOL_SECRET not in text


@pytest.mark.integration
async def test_missing_settings_fail_fast_by_name(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "ROLECALL_"))}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "worker",
        "web",
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        _, err = await proc.communicate()
    assert proc.returncode == 2
    assert b"LIVEKIT_URL is required" in err and b"Traceback" not in err


@pytest.mark.integration
@pytest.mark.parametrize(
    ("env_host", "args"),
    [("0.0.0.0", []), ("127.0.0.1", ["--host", "0.0.0.0"]), ("127.0.0.1", ["--host", "192.0.2.10"])],
)
async def test_anonymous_sessions_on_a_public_address_refuse_to_start(
    tmp_path: Path, env_host: str, args: list[str]
) -> None:
    """`ROLECALL_WEB_AUTH=none` would let anyone who reaches the address start paid sessions."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "ROLECALL_"))}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "LIVEKIT_URL": "ws://127.0.0.1:9",
            "LIVEKIT_API_KEY": "k",
            "LIVEKIT_API_SECRET": "s" * 32,
            "ROLECALL_WEB_HOST": env_host,
            "ROLECALL_WEB_PORT": str(free_port()),
        }
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "worker", "web", *args, cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(30):
        _, err = await proc.communicate()
    assert proc.returncode == 2, err.decode()
    host = args[-1] if args else env_host
    assert f"ROLECALL_WEB_AUTH=none on {host}: anyone who reaches this address".encode() in err
    assert b"ROLECALL_WEB_ALLOW_ANONYMOUS=true" in err and b"Traceback" not in err
