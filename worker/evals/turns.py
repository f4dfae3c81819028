"""One eval conversation's turns through a session: typed turns, spoken clips, UI events, and what came
of each."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import AgentSession, llm
from livekit.agents.voice.io import AudioInput
from livekit.agents.voice.run_result import RunResult
from livekit.agents.voice.speech_handle import SpeechHandle

from worker.evals.checks import CallOutcome, TurnOutcome
from worker.evals.matching import count_responses
from worker.evals.model import LoadedEval, Turn, UiEventInput
from worker.session.ui_events import UiEventRefused, UiEvents
from worker.simulator.speech import SAMPLE_RATE, parse_wav, resample

TRAILING_SILENCE_S = 2.5
"""Silence after a spoken turn, so server VAD (or semantic VAD) ends the user's turn."""
QUIET_S = 0.5
"""A spoken turn is over when every speech is done and none started for this long."""


class ClipInput(AudioInput):
    """The session's audio input: frames of spoken turns, queued; nothing in between."""

    def __init__(self) -> None:
        super().__init__(label="rolecall-eval")
        self.queue: asyncio.Queue[rtc.AudioFrame] = asyncio.Queue()

    async def __anext__(self) -> rtc.AudioFrame:
        return await self.queue.get()


async def typed_turn(session: AgentSession[Any], text: str, timeout_s: float) -> TurnOutcome:
    try:
        result: RunResult[None] = await asyncio.wait_for(session.run(user_input=text), timeout_s)
    except TimeoutError:
        return TurnOutcome(user=text, error=f"no complete answer within {timeout_s:g} s")
    except Exception as exc:
        return TurnOutcome(user=text, error=reason_of(exc))
    items = [e.item for e in result.events if e.type != "agent_handoff"]
    return outcome_of(text, items)


async def spoken_turn(
    loaded: LoadedEval,
    turn: Turn,
    clips: ClipInput,
    speeches: list[SpeechHandle],
    spoke: asyncio.Event,
    users: list[str],
    *,
    live: bool,
    timeout_s: float,
) -> TurnOutcome:
    label = f"[audio {turn.audio}]"
    assert turn.audio is not None
    first_speech, first_user = len(speeches), len(users)
    spoke.clear()
    frames = frames_of(loaded.audio_path(turn.audio))
    for frame in frames:
        clips.queue.put_nowait(frame)
        if live:
            await asyncio.sleep(frame.duration)  # real time, as a microphone would
    try:
        await answered(speeches, first_speech, spoke, timeout_s)
    except TimeoutError:
        return TurnOutcome(user=label, error=f"no complete answer within {timeout_s:g} s")
    heard = " ".join(users[first_user:]).strip()
    return outcome_of(f"{label} {heard}".strip(), items_of(speeches[first_speech:]))


async def delegated_turn(
    session: AgentSession[Any],
    text: str,
    speeches: list[SpeechHandle],
    spoke: asyncio.Event,
    timeout_s: float,
) -> TurnOutcome:
    """A typed turn on GPT-Live: its tool calls come in speeches of their own (the backend's), after the
    spoken acknowledgement that ends `AgentSession.run`, so the turn is over once every speech is."""
    first_speech = len(speeches)
    spoke.clear()
    try:
        session.generate_reply(user_input=text)
    except Exception as exc:
        return TurnOutcome(user=text, error=reason_of(exc))
    try:
        await answered(speeches, first_speech, spoke, timeout_s)
    except TimeoutError:
        return TurnOutcome(user=text, error=f"no complete answer within {timeout_s:g} s")
    return outcome_of(text, items_of(speeches[first_speech:]))


async def event_turn(
    events: UiEvents,
    event: UiEventInput,
    speeches: list[SpeechHandle],
    spoke: asyncio.Event,
    *,
    timeout_s: float,
) -> TurnOutcome:
    """Send a UI event as the page would; the agent's reaction (none for `respond: never`)."""
    label = event_label(event)
    first_speech = len(speeches)
    spoke.clear()
    try:
        reply = await events.deliver(event.name, dict(event.payload))
    except UiEventRefused as refused:
        return TurnOutcome(user=label, error=f"the event was refused ({refused.reason}): {refused}")
    if reply.respond == "never":
        return TurnOutcome(user=label)
    try:
        await answered(speeches, first_speech, spoke, timeout_s)
    except TimeoutError:
        return TurnOutcome(user=label, error=f"no complete answer within {timeout_s:g} s")
    return outcome_of(label, items_of(speeches[first_speech:]))


async def answered(speeches: list[SpeechHandle], first: int, spoke: asyncio.Event, timeout_s: float) -> None:
    """Wait until the agent has spoken, every speech since `first` is done, and none started for a
    moment (TimeoutError after `timeout_s`)."""
    async with asyncio.timeout(timeout_s):
        await spoke.wait()
        while True:
            pending = [h for h in speeches[first:] if not h.done()]
            if pending:
                await asyncio.wait([asyncio.ensure_future(h.wait_for_playout()) for h in pending])
                continue
            count = len(speeches)
            await asyncio.sleep(QUIET_S)
            if len(speeches) == count and all(h.done() for h in speeches[first:]):
                return


def items_of(speeches: list[SpeechHandle]) -> list[Any]:
    """The chat items of these speeches, in time order."""
    return sorted((item for h in speeches for item in h.chat_items), key=lambda i: i.created_at)


def event_label(event: UiEventInput) -> str:
    """How an event turn shows in reports: `[event ingredient_checked {"ingredient": "eggs"}]`."""
    return f"[event {event.name} {json.dumps(event.payload, ensure_ascii=False)}]"


def frames_of(path: str) -> list[rtc.AudioFrame]:
    """The clip as 100 ms PCM16 mono 24 kHz frames, then trailing silence."""
    pcm, rate = parse_wav(Path(path).read_bytes())
    pcm = resample(pcm, rate, SAMPLE_RATE)
    pcm = np.concatenate([pcm, np.zeros(int(SAMPLE_RATE * TRAILING_SILENCE_S), dtype=np.int16)])
    step = SAMPLE_RATE // 10
    frames = []
    for offset in range(0, len(pcm), step):
        chunk = pcm[offset : offset + step]
        if len(chunk) < step:
            chunk = np.concatenate([chunk, np.zeros(step - len(chunk), dtype=np.int16)])
        frames.append(
            rtc.AudioFrame(chunk.tobytes(), sample_rate=SAMPLE_RATE, num_channels=1, samples_per_channel=step)
        )
    return frames


def outcome_of(user: str, items: list[Any]) -> TurnOutcome:
    outcome = TurnOutcome(user=user)
    by_call: dict[str, CallOutcome] = {}
    kinds: list[str] = []
    for item in items:
        if isinstance(item, llm.ChatMessage):
            if item.role == "assistant":
                kinds.append("message")
                outcome.replies.append(item.text_content or "")
        elif isinstance(item, llm.FunctionCall):
            kinds.append("function_call")
            try:
                arguments: Any = json.loads(item.arguments or "{}")
            except json.JSONDecodeError:
                arguments = item.arguments
            call = CallOutcome(name=item.name, arguments=arguments, call_id=item.call_id)
            by_call[item.call_id] = call
            outcome.calls.append(call)
        elif isinstance(item, llm.FunctionCallOutput):
            kinds.append("function_call_output")
            found = by_call.get(item.call_id)
            if found is not None:
                found.output = item.output
                found.is_error = item.is_error
    outcome.responses = count_responses(kinds)
    return outcome


def said(turn: Turn) -> str:
    if turn.event is not None:
        return event_label(turn.event)
    return turn.user if turn.user is not None else f"[audio {turn.audio}]"


def reason_of(exc: BaseException) -> str:
    inner = getattr(exc, "error", None)
    text = str(inner or exc) or type(exc).__name__
    return text[:300]
