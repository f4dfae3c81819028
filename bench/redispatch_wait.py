"""`python -m bench.redispatch_wait [--runs N]`: how long a user waits when a worker dies mid-session.

The docker-compose topology as processes (tests/deploy/topology.py): livekit-server --dev, two
`python -m worker start` workers, the web backend and the simulator. Each run opens a session through
`POST /api/session`, exchanges a line, SIGKILLs the worker's whole process group (a killed container),
waits for LiveKit to drop the agent (what makes the demo page offer "Bring the agent back"), calls
`POST /api/session/redispatch` at once, and times the new agent's first audio at the participant.
Prints one line per run and the medians. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from tests.deploy.topology import Topology
from tests.support.livekit_server import LiveKitServer


async def one_run(topo: Topology) -> dict[str, float]:
    topo.ensure_workers()
    session = await topo.open_session()
    ui = session.ui
    await ui.wait_for(lambda: ui.agent_text(), 30, "greeting")
    old = ui.agent()
    assert old is not None
    victim = topo.worker_of(old.identity.removeprefix("agent-"))
    await ui.say_text("remember the basil")
    await ui.wait_for(lambda: "remember the basil" in ui.agent_text(), 20, "reply")
    while "remember the basil" not in await topo.room_metadata(session.room):
        await asyncio.sleep(0.2)
    killed = time.monotonic()
    victim.sigkill()
    await ui.wait_for(lambda: ui.agent() is None, 90, "the agent to leave")
    gone = time.monotonic()
    ui.first_audio_at = None
    status, body = await topo.redispatch(session)
    assert status == 200, body
    await ui.wait_for(lambda: ui.first_audio_at is not None, 30, "the new agent's audio")
    assert ui.first_audio_at is not None
    await ui.leave()
    return {
        "kill_to_agent_gone": gone - killed,
        "redispatch_to_first_audio": ui.first_audio_at - gone,
        "kill_to_first_audio": ui.first_audio_at - killed,
    }


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        livekit = LiveKitServer(log_path=Path(tmp) / "livekit.log").start()
        topo = Topology(livekit, Path(tmp), extra_env={"ROLECALL_DISCONNECT_GRACE_S": "2"}).start()
        try:
            results = []
            for i in range(runs):
                r = await one_run(topo)
                results.append(r)
                print(f"run {i + 1}: " + ", ".join(f"{k} {v:.1f} s" for k, v in r.items()), flush=True)
            print(
                "median: "
                + ", ".join(f"{k} {statistics.median(r[k] for r in results):.1f} s" for k in results[0])
            )
        finally:
            topo.stop()
            livekit.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args().runs))
