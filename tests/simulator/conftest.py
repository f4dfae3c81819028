"""Fixtures for the simulator tests: servers that must send only valid events, and a raw client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from worker.simulator import Faults, Simulator, SimulatorConfig

StartSim = Callable[..., Awaitable[Simulator]]


def fast_faults(**overrides: Any) -> Faults:
    """Unpaced audio and text, for tests that do not measure timing."""
    return Faults(**({"audio_pace": 0.0, "delta_interval": 0.0} | overrides))


@pytest.fixture
async def start_sim() -> AsyncIterator[StartSim]:
    """Start simulators on free ports; at teardown stop them and assert every sent event validated."""
    sims: list[Simulator] = []

    async def _start(**config: Any) -> Simulator:
        config.setdefault("faults", fast_faults())
        sim = Simulator(SimulatorConfig(host="127.0.0.1", port=0, **config))
        await sim.start()
        sims.append(sim)
        return sim

    yield _start
    for sim in sims:
        await sim.stop()
    for sim in sims:
        assert sim.violations == [], f"server events that do not validate: {sim.violations}"


@pytest.fixture
async def sim(start_sim: StartSim) -> Simulator:
    """A simulator with fast pacing and no scenario."""
    return await start_sim()


class RawClient:
    """A bare WebSocket client speaking JSON events, for protocol-level tests."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []

    async def send(self, event: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(event if isinstance(event, str | bytes) else json.dumps(event))

    async def recv(self) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
        self.events.append(event)
        return event

    async def until(self, event_type: str) -> dict[str, Any]:
        """Receive until an event of this type arrives; return it."""
        async with asyncio.timeout(10):
            while True:
                event = await self.recv()
                if event["type"] == event_type:
                    return event


@pytest.fixture
async def raw(sim: Simulator) -> AsyncIterator[RawClient]:
    """A raw client connected to `sim`, past `session.created`."""
    async with connect(
        sim.ws_url + "?model=gpt-realtime", additional_headers={"Authorization": "Bearer x"}
    ) as ws:
        client = RawClient(ws)
        assert (await client.recv())["type"] == "session.created"
        yield client


def live_connect(sim: Simulator) -> connect:
    """Connect to `sim`'s GPT-Live endpoint. The client's queue is unbounded: a test that stops reading
    while the model still speaks would otherwise leave the server's close frame unread for 10 s."""
    return connect(sim.live_url, additional_headers={"Authorization": "Bearer x"}, max_queue=None)


@pytest.fixture
async def live(sim: Simulator) -> AsyncIterator[RawClient]:
    """A raw client connected to `sim`'s GPT-Live endpoint, before `session.start`."""
    async with live_connect(sim) as ws:
        yield RawClient(ws)
