"""`RoleCallRealtimeModel.open_early()`: the model connection opens while the worker joins the room.

Against the simulator (a real WebSocket server speaking the Realtime protocol) and the real
livekit-agents RealtimeSession.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import pytest
from livekit.agents import APIError

from worker.realtime import build_realtime_model
from worker.roles import RoleRegistry
from worker.settings import Settings
from worker.simulator import Faults, Simulator, SimulatorConfig

pytestmark = pytest.mark.unit

ROLES = Path(__file__).resolve().parents[2] / "roles"


def _settings(base_url: str) -> Settings:
    return Settings.load(
        {
            "LIVEKIT_URL": "ws://127.0.0.1:7880",
            "LIVEKIT_API_KEY": "devkey",
            "LIVEKIT_API_SECRET": "secret",
            "OPENAI_BASE_URL": base_url,
        },
        dotenv=None,
    )


async def _until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)


async def test_the_connection_opens_before_the_agent_asks_and_is_handed_over() -> None:
    async with Simulator(SimulatorConfig(port=0, faults=Faults(connect_delay=0.3))) as sim:
        model = build_realtime_model(RoleRegistry(ROLES).get("cooking-guide"), _settings(sim.base_url))
        model.open_early()
        # Nobody has asked for a session yet, and the model is already connected.
        await _until(lambda: sim.connection_count == 1 and sim.received_of("session.update"))
        session = model.session()
        try:
            assert model.session is not None
            await session.update_instructions("Say hi.")
            await _until(
                lambda: any(
                    e.get("session", {}).get("instructions") == "Say hi."
                    for e in sim.received_of("session.update")
                )
            )
            assert sim.connection_count == 1, "the agent's session is the early one, not a second connection"
            second = model.session()  # later agents (a handoff with fresh history) connect anew
            try:
                await _until(lambda: sim.connection_count == 2)
            finally:
                await second.aclose()
        finally:
            await session.aclose()
            await model.aclose()


async def test_an_early_session_nobody_took_over_is_closed_with_the_model() -> None:
    async with Simulator(SimulatorConfig(port=0)) as sim:
        model = build_realtime_model(RoleRegistry(ROLES).get("cooking-guide"), _settings(sim.base_url))
        model.open_early()
        await _until(lambda: len(sim.connections) == 1)
        await model.aclose()
        await _until(lambda: not sim.connections)


async def test_an_error_before_the_handover_reaches_the_agent() -> None:
    async with Simulator(SimulatorConfig(port=0)) as sim:
        model = build_realtime_model(RoleRegistry(ROLES).get("cooking-guide"), _settings(sim.base_url))
        model.open_early()
        await _until(lambda: len(sim.connections) == 1)
        # The model reports a fatal error before any agent listens.
        await sim.connections[0].send(
            {
                "type": "error",
                "event_id": "event_early",
                "error": {"type": "insufficient_quota", "code": "insufficient_quota", "message": "no quota"},
            }
        )
        await asyncio.sleep(0.3)
        session = model.session()
        heard: list[Any] = []
        session.on("error", heard.append)
        try:
            await _until(lambda: heard)
            assert heard[0].recoverable is False
            assert heard[0].error.body.message == "no quota"
        finally:
            with contextlib.suppress(APIError):  # the session ended with that error
                await session.aclose()
            await model.aclose()
