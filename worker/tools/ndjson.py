"""An http tool's answer streamed as progress lines, then its result (`application/x-ndjson`).

A backend that takes seconds may answer with newline-delimited JSON: any number of lines
`{"progress": "Found 12 recipes, picking three"}`, each handed on as it arrives (the agent says it when
the tool's role has `progress.updates: true`), then one line holding the result, which must be the
last. The whole body stays under the tool's `max_response_bytes`, counted as it arrives, like a plain
answer (`worker.bodies`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from aiohttp import StreamReader

from worker.bodies import BodyTooLarge
from worker.tools.guard import ToolFailure

CONTENT_TYPE = "application/x-ndjson"


class StreamProblem(ToolFailure):
    """The stream is not progress lines followed by one result line; the text says how."""


def progress_text(line: bytes) -> str | None:
    """The update of a progress line (`{"progress": "..."}` and nothing else), or None for any other line."""
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, dict) and set(value) == {"progress"} and isinstance(value["progress"], str):
        return value["progress"]
    return None


async def read_updates(
    stream: StreamReader, cap: int, on_progress: Callable[[str], Awaitable[None]]
) -> bytes:
    """The result line of an NDJSON answer, after handing each progress line to `on_progress`.

    BodyTooLarge past `cap` bytes; StreamProblem when no result comes, or something follows it.
    """
    size = 0
    pending = b""
    result: bytes | None = None

    async def take(line: bytes) -> None:
        nonlocal result
        if not line.strip():
            return
        if result is not None:
            raise StreamProblem("the service sent more after its result")
        update = progress_text(line)
        if update is None:
            result = line
        else:
            await on_progress(update)

    async for chunk in stream.iter_any():
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge(cap)
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            await take(line)
    await take(pending)
    if result is None:
        raise StreamProblem("the service sent progress but no result")
    return result
