"""Canaries for `worker._livekit_compat`: each private name RoleCall reaches for, in the installed packages.

When one of these fails after an upgrade, read the matching function's docstring in
`worker/_livekit_compat.py`: it says what the reach does and how RoleCall degrades without it.
"""

from __future__ import annotations

import inspect
from importlib import metadata
from pathlib import Path

import pytest
from livekit import rtc
from livekit.agents import AgentServer, AgentSession

from worker import _livekit_compat as compat

pytestmark = pytest.mark.unit


def test_the_pinned_version_is_the_installed_one() -> None:
    assert metadata.version("livekit-agents") == compat.LIVEKIT_AGENTS_VERSION


def test_run_worker_reaches_a_private_function_with_the_expected_signature() -> None:
    from livekit.agents.cli.cli import _run_worker

    assert list(inspect.signature(_run_worker).parameters) == ["server", "args"]


def test_the_server_keeps_its_connection_flags_and_load_fields() -> None:
    server = AgentServer(ws_url="ws://127.0.0.1:1", api_key="k", api_secret="s" * 32)
    state = compat.registration(server)
    assert state == compat.Registration(connecting=False, failed=False)
    assert isinstance(server._connection_failed, bool) and isinstance(server._connecting, bool)
    # Set when the server runs; LoadAwareServer reads them, and overrides the method that does.
    run_source = inspect.getsource(AgentServer)
    assert "self._reserved_slots: int = 0" in run_source and "self._worker_load: float = 0.0" in run_source
    assert "_get_effective_load" in vars(AgentServer)


def test_the_load_override_counts_a_pending_job_as_one_session() -> None:
    server = compat.LoadAwareServer(ws_url="ws://127.0.0.1:1", api_key="k", api_secret="s" * 32)
    server.session_weight = 0.1
    server._worker_load = 0.2
    server._reserved_slots = 2
    assert server._get_effective_load() == pytest.approx(0.4)


def test_the_worker_shutdown_reason_is_the_one_livekit_agents_sends() -> None:
    import livekit.agents.ipc.job_proc_lazy_main as job_main

    assert f'"{compat.WORKER_SHUTDOWN_REASON}"' in Path(job_main.__file__).read_text()


async def test_a_session_exposes_whether_it_runs() -> None:
    session: AgentSession[None] = AgentSession()
    assert compat.session_running(session) is False


async def test_the_realtime_session_has_the_input_chunk_buffer_to_swap() -> None:
    from worker.realtime import RoleCallRealtimeModel

    model = RoleCallRealtimeModel(api_key="k", base_url="http://127.0.0.1:9/v1", input_chunk_ms=20)
    session = model.session()
    sixty_ms = bytes(2 * 24_000 * 60 // 1000)  # PCM16 at 24 kHz
    try:
        assert [f.samples_per_channel for f in session._bstream.write(sixty_ms)] == [480, 480, 480]
        assert compat.set_input_chunk(session, 30) is True
        assert [f.samples_per_channel for f in session._bstream.write(sixty_ms)] == [720, 720]
    finally:
        await session.aclose()
        await model.aclose()


async def test_the_room_keeps_its_handler_registries() -> None:
    room = rtc.Room()
    room.register_text_stream_handler("t", lambda reader, identity: None)
    room.register_byte_stream_handler("b", lambda reader, identity: None)
    assert room._text_stream_handlers.keys() == {"t"} and room._byte_stream_handlers.keys() == {"b"}
    # The local participant exists once connected; its method registry is set up on construction.
    assert "self._rpc_handlers: Dict[str, RpcHandler] = {}" in inspect.getsource(rtc.LocalParticipant)


def test_the_session_host_classes_are_where_they_were() -> None:
    from livekit.agents.voice.remote_session import RoomSessionTransport, SessionHost

    assert "remote_identity" in inspect.signature(RoomSessionTransport).parameters
    assert {"register_session", "start", "aclose"} <= set(vars(SessionHost))


async def test_the_gpt_live_session_keeps_its_backend_settings_and_update_hook() -> None:
    from livekit.agents.llm._realtime.gpt_live import GPTLiveModel

    model = GPTLiveModel(api_key="k", base_url="http://127.0.0.1:9/v1")
    session = model.session()
    try:
        assert isinstance(session._opts.responses, dict)
        assert compat.set_live_backend(session, {"instructions": "New.", "tool_choice": "required"}) is True
        assert session._opts.responses["instructions"] == "New."
        # Not started: nothing is sent; once started, _send_delegation_update sends a sparse update.
        assert not session._session_start_sent and callable(session._send_delegation_update)
    finally:
        await session.aclose()
        await model.aclose()


async def test_the_pre_connect_topic_and_the_room_handler_registry() -> None:
    from livekit.agents.voice.room_io._pre_connect_audio import PRE_CONNECT_AUDIO_BUFFER_STREAM

    assert compat.PRE_CONNECT_TOPIC == PRE_CONNECT_AUDIO_BUFFER_STREAM == "lk.agent.pre-connect-audio-buffer"
    room = rtc.Room()

    def handler(reader: object, identity: str) -> None: ...

    room.register_byte_stream_handler(compat.PRE_CONNECT_TOPIC, handler)
    assert compat.byte_stream_handler(room, compat.PRE_CONNECT_TOPIC) is handler
    assert compat.byte_stream_handler(room, "other") is None
