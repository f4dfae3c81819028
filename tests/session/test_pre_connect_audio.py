"""A role with `pre_connect_audio: true`: the page's buffer (recorded while the agent joins) reaches the
model before the live microphone, from the session's user only; other roles do not serve the topic."""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pytest
from livekit import rtc

from tests.session.conftest import Stack
from tests.support.ui_participant import SAMPLE_RATE, UIParticipant, _read_wav_24k
from worker._livekit_compat import PRE_CONNECT_TOPIC

pytestmark = pytest.mark.integration

EARLY = """
name: bench-early
title: Early bench
description: Takes the page's pre-connect audio.
model:
  pre_connect_audio: true
  turn_detection: {type: server_vad, silence_duration_ms: 400}
instructions: You are a test agent.
"""


def _speech(path: Path) -> bytes:
    subprocess.run(["espeak-ng", "-w", str(path), "hello, I want pancakes"], check=True, capture_output=True)
    pcm = np.concatenate([_read_wav_24k(path), np.zeros(SAMPLE_RATE, dtype=np.int16)])
    return pcm.astype(np.int16).tobytes()


async def _silence(source: rtc.AudioSource) -> None:
    frame = rtc.AudioFrame(bytes(SAMPLE_RATE // 50), SAMPLE_RATE, 1, SAMPLE_RATE // 100)
    while True:
        await source.capture_frame(frame)


async def _send(ui: UIParticipant, agent: str, track_sid: str, pcm: bytes) -> None:
    writer = await ui.room.local_participant.stream_bytes(
        "preconnect-buffer",
        topic=PRE_CONNECT_TOPIC,
        attributes={"trackId": track_sid, "sampleRate": str(SAMPLE_RATE), "channels": "1"},
        destination_identities=[agent],
    )
    await writer.write(pcm)
    await writer.aclose()


async def test_the_users_pre_connect_audio_reaches_the_model_and_no_one_elses(
    stack: Stack, tmp_path: Path
) -> None:
    stack.write_role("bench-early", EARLY)
    room = f"test-{uuid.uuid4().hex[:10]}"
    sim = stack.simulator.sim
    stack.since = (len(sim.sent), len(sim.received))
    page = await UIParticipant(stack.livekit, room, identity="user").join()
    intruder = await UIParticipant(stack.livekit, room, identity="intruder").join()
    source = rtc.AudioSource(SAMPLE_RATE, 1)
    track = rtc.LocalAudioTrack.create_audio_track("mic", source)
    options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE, preconnect_buffer=True)
    publication = await page.room.local_participant.publish_track(track, options)
    quiet = asyncio.create_task(_silence(source))  # the live microphone says nothing
    try:
        await stack.dispatch("bench-early", participant="user", room=room)
        agent = await page.wait_for(page.agent, what="the agent in the room")
        pcm = _speech(tmp_path / "early.wav")
        await _send(intruder, agent.identity, publication.sid, pcm)
        await _send(page, agent.identity, publication.sid, pcm)

        # What the user said before the agent was ready reaches the model, which answers it.
        await page.wait_for(lambda: "You said: (audio" in page.agent_text(), timeout=30, what="the answer")
        since = stack.since[0]
        assert len([r for r in sim.sent[since:] if r.type == "input_audio_buffer.speech_started"]) == 1
        log = re.sub(r"\x1b\[[0-9;]*m", "", stack.worker.log())
        assert "pre-connect audio refused: from 'intruder', not the session's user" in log
        served = [line for line in log.splitlines() if "agent serves:" in line and room in line]
        assert served and f"byte streams ['{PRE_CONNECT_TOPIC}']" in served[-1]
    finally:
        quiet.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await quiet
        await intruder.leave()
        await page.leave()
