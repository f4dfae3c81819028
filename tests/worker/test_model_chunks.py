"""`ROLECALL_AUDIO_INPUT_CHUNK_MS`: the setting, and the RealtimeModel that sends smaller chunks."""

from __future__ import annotations

from pathlib import Path

import pytest
from livekit.agents import utils

from worker.realtime import RoleCallRealtimeModel, build_realtime_model, input_frame_ms
from worker.roles import RoleRegistry
from worker.settings import Settings, SettingsError

pytestmark = pytest.mark.unit

BASE = {
    "LIVEKIT_URL": "ws://127.0.0.1:7880",
    "LIVEKIT_API_KEY": "devkey",
    "LIVEKIT_API_SECRET": "secret",
    "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
}
ROLES = Path(__file__).resolve().parents[2] / "roles"


async def test_default_is_20_ms_chunks_read_in_20_ms_frames() -> None:
    s = Settings.load(BASE, dotenv=None)
    assert s.audio_input_chunk_ms == 20 and input_frame_ms(s) == 20
    model = build_realtime_model(RoleRegistry(ROLES).get("cooking-guide"), s)
    session = model.session()
    try:
        frames = session._bstream.write(bytes(2 * 24_000 * 60 // 1000))  # 60 ms of PCM16 at 24 kHz
        assert [f.samples_per_channel for f in frames] == [480, 480, 480]
    finally:
        await session.aclose()
        await model.aclose()


async def test_100_keeps_livekit_agents_own_chunk() -> None:
    s = Settings.load({**BASE, "ROLECALL_AUDIO_INPUT_CHUNK_MS": "100"}, dotenv=None)
    assert input_frame_ms(s) == 50
    model = build_realtime_model(RoleRegistry(ROLES).get("cooking-guide"), s)
    session = model.session()
    try:
        frames = session._bstream.write(bytes(2 * 24_000 * 200 // 1000))  # 200 ms
        assert [f.samples_per_channel for f in frames] == [2400, 2400]  # livekit-agents' own chunk
    finally:
        await session.aclose()
        await model.aclose()


@pytest.mark.parametrize("value", ["5", "110", "25"])
def test_chunk_must_be_10_to_100_in_steps_of_10(value: str) -> None:
    with pytest.raises(SettingsError) as excinfo:
        Settings.load({**BASE, "ROLECALL_AUDIO_INPUT_CHUNK_MS": value}, dotenv=None)
    assert excinfo.value.problems == [
        f"ROLECALL_AUDIO_INPUT_CHUNK_MS={value}: expected 10 to 100, a multiple of 10"
    ]


async def test_a_smaller_chunk_replaces_the_sessions_byte_stream() -> None:
    s = Settings.load({**BASE, "ROLECALL_AUDIO_INPUT_CHUNK_MS": "20"}, dotenv=None)
    assert input_frame_ms(s) == 20
    model = build_realtime_model(RoleRegistry(ROLES).get("cooking-guide"), s)
    assert isinstance(model, RoleCallRealtimeModel)
    session = model.session()
    try:
        stream = session._bstream
        assert isinstance(stream, utils.audio.AudioByteStream)
        frames = stream.write(bytes(2 * 24_000 * 60 // 1000))  # 60 ms of PCM16 at 24 kHz
        assert [f.samples_per_channel for f in frames] == [480, 480, 480]
    finally:
        await session.aclose()
        await model.aclose()
