"""The pure parts of the bench's profile: whose code a py-spy stack is, native vs Python threads."""

from __future__ import annotations

import pytest

from bench.profile import native_python_split, owner_of, split_samples

pytestmark = pytest.mark.unit

VENV = "/work/x/.venv/lib/python3.11/site-packages"
STDLIB = "/root/.pyenv/versions/3.11.7/lib/python3.11"
BASELINE_PROC = 'process 41:"/work/x/.venv/bin/python /work/x/bench/baseline_agent.py start"'
JOB_PROC = (
    'process 42:"/work/x/.venv/bin/python -c from multiprocessing.spawn import spawn_main; '
    'spawn_main(tracker_fd=4, pipe_handle=6) --multiprocessing-fork"'
)


def test_owner_of_full_filename_frames() -> None:
    assert owner_of("AgentActivity._run (/work/x/worker/session/flow.py:12)") == "rolecall"
    assert owner_of("entrypoint (/work/x/bench/baseline_agent.py:80)") == "rolecall"
    assert owner_of(f"RealtimeSession._main ({VENV}/livekit/plugins/openai/realtime/m.py:9)") == (
        "livekit_agents"
    )
    assert owner_of(f"AgentSession.start ({VENV}/livekit/agents/voice/agent_session.py:3)") == (
        "livekit_agents"
    )
    assert owner_of(f"FfiClient.request ({VENV}/livekit/rtc/_ffi_client.py:5)") == "livekit_rtc_python"
    assert owner_of(f"dumps ({STDLIB}/json/__init__.py:231)") is None
    assert owner_of(f"ClientSession._request ({VENV}/aiohttp/client.py:7)") is None


def test_process_frames_are_not_code() -> None:
    # the baseline's command line names baseline_agent.py: its process frame must not count as its code
    assert owner_of(BASELINE_PROC) is None
    assert owner_of(JOB_PROC) is None
    assert owner_of("<module> (<string>:1)") is None


def test_split_samples_leaf_first_and_process_frames_ignored() -> None:
    raw = "\n".join(
        [
            # RoleCall calls into livekit-agents, which spends it in the standard library
            f"{JOB_PROC};run (/work/x/worker/session/flow.py:1);"
            f"emit ({VENV}/livekit/agents/utils/aio.py:2);dumps ({STDLIB}/json/__init__.py:3) 7",
            # the asyncio loop itself, in the baseline worker's main process: other, not RoleCall
            f"{BASELINE_PROC};<module> (/work/x/bench/baseline_agent.py:98);"
            f"run_forever ({STDLIB}/asyncio/base_events.py:607) 5",
            f"{BASELINE_PROC};_select ({STDLIB}/selectors.py:468) 3",
            "garbage line",
        ]
    )
    assert split_samples(raw) == {"livekit_agents": 7, "rolecall": 5, "other": 3}


def test_native_python_split_by_thread_name() -> None:
    before = {(1, 1): ("python", 1.0), (1, 2): ("tokio-runtime-w", 2.0), (1, 3): ("python", 0.0)}
    after = {
        (1, 1): ("python", 1.5),
        (1, 2): ("tokio-runtime-w", 3.0),
        (1, 3): ("python", 0.25),
        (1, 4): ("worker_thread", 0.5),  # born during the window: counts from 0
    }
    assert native_python_split(before, after) == pytest.approx((0.75, 1.5))
