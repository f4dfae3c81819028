"""Post-call analysis: one out-of-band model request about a finished conversation, checked, for the report.

After the session, the worker opens a connection of its own to the Realtime API (the session's may be
gone: the model lost, the job shutting down) and sends one `response.create` with `conversation: "none"`
(nothing is added to any conversation), text output, no tools, the transcript as its `input`, and
`metadata: {"rolecall": "analysis", "role": <name>}` (which the simulator's scenarios match to script
an answer). The answer must be one JSON object with the parts the role declares (`Analysis.answer_schema`);
anything else is a failed analysis, with the reason, in the report. The whole exchange has
`ROLECALL_ANALYSIS_TIMEOUT_S`: a model that is slow or down never holds the report back for longer.

Why not the session's own connection: livekit-agents 1.8.9 takes every response on it for a turn of the
conversation (it would be spoken and transcribed), and at the end of a session that connection may be
closed or broken already.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp

from worker.errors import RoleCallError
from worker.pricing import Usage
from worker.report import AnalysisResult, CriterionResult, TranscriptLine
from worker.roles.analysis import Analysis
from worker.settings import Settings
from worker.tools.arguments import ArgumentValidator

logger = logging.getLogger("rolecall.analysis")

METADATA_KEY = "rolecall"
METADATA_VALUE = "analysis"
OPENAI_BASE_URL = "https://api.openai.com/v1"
SIMULATOR_KEY = "rolecall-simulator"
MAX_ANSWER_KEPT = 2000
"""Characters of a failed answer kept in the report."""
MAX_TRANSCRIPT_CHARS = 200_000
"""The newest part of a longer transcript is analysed."""


class AnalysisFailed(RoleCallError):
    """The analysis has no usable answer; the text says why (it goes in the report)."""

    def __init__(self, reason: str, answer: str = "") -> None:
        super().__init__(reason)
        self.answer = answer


async def analyse(
    spec: Analysis,
    *,
    role: str,
    model: str,
    transcript: Sequence[TranscriptLine],
    settings: Settings,
) -> AnalysisResult:
    """The role's analysis of `transcript`; never raises, never takes longer than the timeout."""
    if not any(line.text.strip() for line in transcript):
        return AnalysisResult(status="skipped", error="nothing was said")
    usage: list[Usage] = []
    try:
        async with asyncio.timeout(settings.analysis_timeout_s):
            answer = await request(
                instructions=instructions(spec, role),
                text=transcript_text(transcript),
                role=role,
                model=model,
                settings=settings,
                usage=usage,
            )
        result = check(spec, answer)
    except TimeoutError:
        result = AnalysisResult(status="failed", error=f"no answer within {settings.analysis_timeout_s:g} s")
    except AnalysisFailed as exc:
        result = AnalysisResult(status="failed", error=str(exc), answer=exc.answer[:MAX_ANSWER_KEPT])
    except ValueError:  # an event that is not JSON
        result = AnalysisResult(status="failed", error="the model sent something that is not JSON")
    except (aiohttp.ClientError, OSError) as exc:
        result = AnalysisResult(
            status="failed", error=f"the model could not be reached ({type(exc).__name__})"
        )
    result.usage = usage[0] if usage else None
    if result.status == "failed":
        logger.warning("post-call analysis of %s failed: %s", role, result.error)
    return result


def instructions(spec: Analysis, role: str) -> str:
    """What the model is asked (the transcript comes as the input)."""
    parts = [
        f"You analyse a finished conversation between a user and a voice agent playing the role {role!r}. "
        "The input is its transcript. Answer with one JSON object and nothing else (no Markdown), "
        "with exactly these keys:"
    ]
    if spec.summary is not None:
        parts.append(f'- "summary": a string. {spec.summary.instructions}')
    if spec.data is not None:
        schema = json.dumps(spec.data.schema_, separators=(",", ":"))
        parts.append(
            f'- "data": {spec.data.instructions} It must match this JSON Schema: {schema}'.replace("  ", " ")
        )
    if spec.success is not None:
        criteria = "\n".join(f"  {i}. {c}" for i, c in enumerate(spec.success.criteria, 1))
        parts.append(
            '- "success": an array with one entry per criterion below, in order, each '
            '{"met": true or false, "reason": "one short sentence"}:\n' + criteria
        )
    return "\n".join(parts)


def transcript_text(transcript: Sequence[TranscriptLine]) -> str:
    """The transcript as `user: …` / `agent: …` lines (the newest part, when very long)."""
    text = "\n".join(
        f"{line.speaker}: {' '.join(line.text.split())}" for line in transcript if line.text.strip()
    )
    return text[-MAX_TRANSCRIPT_CHARS:]


def check(spec: Analysis, answer: str) -> AnalysisResult:
    """The answer as a result, or AnalysisFailed saying what is wrong with it."""
    text = answer.strip()
    if text.startswith("```"):  # models like to fence JSON even when told not to
        text = text.strip("`").removeprefix("json").strip()
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        raise AnalysisFailed("the answer is not JSON", answer) from None
    problems = ArgumentValidator("analysis", spec.answer_schema()).problems(parsed)
    if problems:
        raise AnalysisFailed("the answer does not match the schema: " + "; ".join(problems[:5]), answer)
    success = None
    if spec.success is not None:
        success = [
            CriterionResult(criterion=c, met=bool(v["met"]), reason=str(v.get("reason", "")))
            for c, v in zip(spec.success.criteria, parsed["success"], strict=True)
        ]
    return AnalysisResult(
        status="ok", summary=parsed.get("summary"), data=parsed.get("data"), success=success
    )


def realtime_url(settings: Settings, model: str) -> str:
    """The Realtime WebSocket URL for `model` (`OPENAI_BASE_URL`, as livekit-plugins-openai reads it)."""
    base = urlsplit(settings.openai_base_url or OPENAI_BASE_URL)
    scheme = {"http": "ws", "https": "wss"}.get(base.scheme, base.scheme)
    path = base.path.rstrip("/")
    if not path.endswith("/realtime"):
        path += "/realtime"
    return urlunsplit((scheme, base.netloc, path, urlencode({"model": model}), ""))


async def request(
    *, instructions: str, text: str, role: str, model: str, settings: Settings, usage: list[Usage]
) -> str:
    """One out-of-band response on a new connection; its text (its usage appended to `usage`)."""
    key = settings.openai_api_key or (SIMULATOR_KEY if settings.openai_base_url else "")
    headers = {"Authorization": f"Bearer {key}"}
    create = {
        "type": "response.create",
        "response": {
            "conversation": "none",
            "output_modalities": ["text"],
            "instructions": instructions,
            "metadata": {METADATA_KEY: METADATA_VALUE, "role": role},
            "tool_choice": "none",
            "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}],
        },
    }
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(realtime_url(settings, model), headers=headers, max_msg_size=16 * 1024 * 1024) as ws,
    ):
        await ws.send_str(json.dumps(create))
        ours: str | None = None
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            event: dict[str, Any] = json.loads(message.data)
            kind = event.get("type")
            if kind == "error":
                detail = (event.get("error") or {}).get("message") or "an error"
                raise AnalysisFailed(f"the model answered with an error: {str(detail)[:300]}")
            response = event.get("response") or {}
            if (
                kind == "response.created"
                and (response.get("metadata") or {}).get(METADATA_KEY) == METADATA_VALUE
            ):
                ours = response.get("id")
            elif kind == "response.done" and ours is not None and response.get("id") == ours:
                usage.append(_usage(response.get("usage") or {}))
                if response.get("status") != "completed":
                    raise AnalysisFailed(f"the response ended {response.get('status')}")
                return _text(response)
    raise AnalysisFailed("the connection closed before the answer")


def _text(response: dict[str, Any]) -> str:
    out = []
    for item in response.get("output") or []:
        for part in item.get("content") or []:
            if part.get("type") in ("output_text", "text") and isinstance(part.get("text"), str):
                out.append(part["text"])
    return "".join(out)


def _usage(raw: dict[str, Any]) -> Usage:
    given = raw.get("input_token_details") or {}
    taken = raw.get("output_token_details") or {}
    cached = given.get("cached_tokens_details") or {}
    return Usage(
        text_in=int(given.get("text_tokens") or 0),
        text_in_cached=int(cached.get("text_tokens") or 0),
        audio_in=int(given.get("audio_tokens") or 0),
        text_out=int(taken.get("text_tokens") or 0),
        audio_out=int(taken.get("audio_tokens") or 0),
    )
