"""What livekit-agents runs for a job, named apart from the session code, which the worker's own process
never needs to import.

livekit-agents hands the entrypoint to its job processes by reference (module and name), so the worker's
own process needs only this small module; the session code (`SESSION_MODULE`, with the MCP SDK,
jsonschema, OpenTelemetry and the rest it pulls in: about 0.9 s of imports) loads once in the forkserver
(`worker.server.PRELOADED_MODULES`), and a job process forks with it already loaded. Under the thread
executor, jobs run in the worker's process, and `worker.server.build_server` imports it at start.
"""

from __future__ import annotations

import importlib

from livekit.agents import JobContext

SESSION_MODULE = "worker.session.flow"
"""The session code: its `entrypoint` runs one session."""
PREWARMED_REGISTRY = "rolecall.registry"
"""Key of the role registry `worker.server.prewarm` leaves in an idle job process's `userdata`."""


async def entrypoint(job: JobContext) -> None:
    """Run one session (`worker.session.flow.entrypoint`)."""
    session = importlib.import_module(SESSION_MODULE)
    await session.entrypoint(job)
