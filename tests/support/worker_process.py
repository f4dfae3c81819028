"""RoleCall's own commands (`python -m worker dev|start|web`) as child processes, for integration tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class CliProcess:
    """`python -m worker ARGS`; `start()` returns once its log shows `ready_text`."""

    def __init__(
        self, args: list[str], env: dict[str, str], log_path: Path, *, ready_text: str, what: str
    ) -> None:
        self.args = args
        self.env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        self.log_path = log_path
        self.ready_text = ready_text
        self.what = what
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> CliProcess:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "worker", *self.args],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.what} exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            if self.ready_text in self.log():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.what} was not ready within {timeout}s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGINT, then SIGKILL to the whole process group after `timeout`; the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        return code


class WorkerProcess(CliProcess):
    """The worker; ready once it has registered with the LiveKit server."""

    def __init__(self, env: dict[str, str], log_path: Path, *, mode: str = "dev") -> None:
        super().__init__(
            [mode, "--log-level", "DEBUG"], env, log_path, ready_text="registered worker", what="worker"
        )
        self.mode = mode

    def start(self, timeout: float = 60.0) -> WorkerProcess:
        super().start(timeout)
        return self


class WebProcess(CliProcess):
    """The web backend on `port`; ready once it listens."""

    def __init__(self, env: dict[str, str], port: int, log_path: Path, *, host: str = "127.0.0.1") -> None:
        args = ["web", "--host", host, "--port", str(port)]
        super().__init__(args, env, log_path, ready_text="web backend listening", what="web backend")
        self.port = port

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def start(self, timeout: float = 30.0) -> WebProcess:
        super().start(timeout)
        return self
