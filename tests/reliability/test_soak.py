"""The short soak (`make soak` runs the long one): concurrent sessions with audio both ways and tool
calls, zero errors, every report complete, and nothing left running afterwards. Numbers are printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.soak import soak, summary_text

pytestmark = pytest.mark.integration

SESSIONS = 4
"""Four, not twenty, for one minute: on the 2-core test machine `make test` must stay under 30 minutes;
`make soak` runs the long one."""
MINUTES = 1.0


async def test_short_soak_has_no_errors_and_leaves_nothing_behind(tmp_path: Path) -> None:
    result = await soak(SESSIONS, MINUTES, tmp_path)
    print("\n" + summary_text(result))
    assert result["errors"] == 0, summary_text(result)
    assert result["spoken_turns"] >= SESSIONS and result["tool_calls"] >= SESSIONS
    assert result["worker_processes"]["after"] <= result["worker_processes"]["before"]
    assert result["simulator_connections_in_use_after"] == 0
    assert result["simulator_tasks"]["after"] <= result["simulator_tasks"]["before"]
    assert result["driver_asyncio_tasks"]["after"] <= result["driver_asyncio_tasks"]["before"]
