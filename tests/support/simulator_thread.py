"""The Realtime simulator on its own event loop in a background thread.

Worker processes started by a test fixture need a simulator that outlives any one test's event
loop; this runs one for as long as the fixture lives. Its records (`sim.received`, `sim.sent`,
`sim.violations`) are plain lists that tests read directly.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from worker.simulator import Simulator, SimulatorConfig

T = TypeVar("T")


class SimulatorThread:
    """Start with `start()`, stop with `stop()`; `sim` is the running Simulator."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.sim = Simulator(config or SimulatorConfig(port=0))
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="simulator", daemon=True)

    def start(self) -> SimulatorThread:
        self._thread.start()
        self.call(self.sim.start())
        return self

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the simulator's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self) -> None:
        self.call(self.sim.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
