"""`Preopened.take` with one model URL (the common case: every role on one model): the handed-over
connection stays open and carries the session, against the simulator (a real WebSocket server).

With a single target, the keeper that `take` stops is the last one, and its cleanup closes the pool's
HTTP session; before the fix that closed the very socket just handed to the job, and livekit-agents
reconnected ("connection closed unexpectedly") on every session (found by `make bench`).
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from worker.preopen import Preopened, targets_for
from worker.roles import RoleRegistry
from worker.settings import Settings
from worker.simulator import Simulator, SimulatorConfig

pytestmark = pytest.mark.unit

ROLES = Path(__file__).resolve().parents[2] / "roles"


async def _until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)


async def test_the_only_preopened_connection_stays_open_once_taken() -> None:
    async with Simulator(SimulatorConfig(port=0)) as sim:
        settings = Settings.load(
            {
                "LIVEKIT_URL": "ws://127.0.0.1:7880",
                "LIVEKIT_API_KEY": "devkey",
                "LIVEKIT_API_SECRET": "secret",
                "OPENAI_BASE_URL": sim.base_url,
            },
            dotenv=None,
        )
        targets = targets_for([RoleRegistry(ROLES).get("cooking-guide")], settings)
        assert len(targets) == 1
        pool = Preopened(targets, max_age_s=60)
        pool.start()
        try:
            await pool.wait_open()
            await _until(lambda: pool.open_now() == [targets[0].url])
            ws = await pool.take(targets[0].url)
            assert ws is not None
            await pool.aclose()  # what take started in the background: the others closed, not this one
            assert not ws.closed, "the handed-over connection was closed with the pool"
            await ws.send_str(
                json.dumps({"type": "session.update", "session": {"type": "realtime", "instructions": "Hi."}})
            )
            await _until(lambda: bool(sim.received_of("session.update")))
            assert len(sim.connections) == 1
            await ws.close()
        finally:
            await pool.aclose()
