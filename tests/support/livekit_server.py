"""A real `livekit-server --dev` on free loopback ports, for integration tests."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from livekit import api

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = ROOT / ".tools" / "bin" / "livekit-server"
API_KEY = "rolecall-test-key"
# livekit-server wants secrets of at least 32 characters outside of the built-in dev key.
API_SECRET = "rolecall-test-secret-0123456789abcdef"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port the kernel says is free right now on 127.0.0.1."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveKitServer:
    """One livekit-server process. `start()` returns once it answers HTTP on its signalling port."""

    binary: Path = field(
        default_factory=lambda: Path(os.environ.get("ROLECALL_LIVEKIT_SERVER", DEFAULT_BINARY))
    )
    port: int = field(default_factory=free_port)
    tcp_port: int = field(default_factory=free_port)
    udp_port: int = field(default_factory=lambda: free_port(socket.SOCK_DGRAM))
    api_key: str = API_KEY
    api_secret: str = field(default=API_SECRET, repr=False)
    log_path: Path | None = None
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config_body(self) -> str:
        return (
            f"port: {self.port}\n"
            f"rtc:\n  tcp_port: {self.tcp_port}\n  udp_port: {self.udp_port}\n"
            f"keys:\n  {self.api_key}: {self.api_secret}\n"
        )

    def start(self, timeout: float = 20.0) -> LiveKitServer:
        if not self.binary.is_file():
            raise RuntimeError(
                f"livekit-server not found at {self.binary}: run `make setup` (it builds it into .tools/bin)"
            )
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self._proc = subprocess.Popen(
            [
                str(self.binary),
                "--dev",
                "--bind",
                "127.0.0.1",
                "--node-ip",
                "127.0.0.1",
                "--config-body",
                self.config_body(),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"livekit-server exited with code {self._proc.returncode} (log: {self.log_path})"
                )
            try:
                with urllib.request.urlopen(self.http_url, timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"livekit-server did not answer on {self.http_url} within {timeout}s")

    def stop(self, *, force: bool = False) -> None:
        """SIGTERM: livekit-server waits for its rooms to empty (SIGKILL after 10 s, as a crash would
        look to the clients). `force`: a second SIGTERM at once, which closes every room, telling its
        participants, and exits; for the end of a test module, where no room is still needed."""
        if self._proc is None:
            return
        self._proc.terminate()
        if force:
            time.sleep(0.1)  # the second signal counts only once the first has been taken
            self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def token(self, identity: str, room: str, *, name: str | None = None) -> str:
        grants = api.VideoGrants(
            room_join=True, room=room, can_publish=True, can_subscribe=True, can_publish_data=True
        )
        tok = api.AccessToken(self.api_key, self.api_secret).with_identity(identity).with_grants(grants)
        if name:
            tok = tok.with_name(name)
        return tok.to_jwt()

    def api(self) -> api.LiveKitAPI:
        return api.LiveKitAPI(self.http_url, self.api_key, self.api_secret)

    def env(self) -> dict[str, str]:
        """The environment a worker process needs to reach this server."""
        return {
            "LIVEKIT_URL": self.url,
            "LIVEKIT_API_KEY": self.api_key,
            "LIVEKIT_API_SECRET": self.api_secret,
        }
