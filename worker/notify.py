"""What the worker tells the page besides audio and transcripts.

State lives in the agent participant's attributes, so a page that joins late still sees it:
`rolecall.role` / `rolecall.role_title` (the active persona) and `rolecall.error` (why the session
cannot go on). Events go on the `rolecall.events` text stream topic as JSON objects with a `type`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from livekit import rtc

logger = logging.getLogger("rolecall.notify")

EVENTS_TOPIC = "rolecall.events"
ATTR_ROLE = "rolecall.role"
ATTR_ROLE_TITLE = "rolecall.role_title"
ATTR_ERROR = "rolecall.error"


async def send_event(
    local: rtc.LocalParticipant | None, event: dict[str, Any], *, to: str | None = None
) -> None:
    """Send one event to the page (or every participant when `to` is None); never raises.

    `local` is None when a session runs without a room (evals): there is no page to tell.
    """
    if local is None:
        return
    try:
        await local.send_text(
            json.dumps(event), topic=EVENTS_TOPIC, destination_identities=[to] if to else None, compress=False
        )
    except Exception as exc:  # the room may be closing; telling the page is best effort
        logger.debug("could not send %s event: %s", event.get("type"), exc)


async def announce_role(
    local: rtc.LocalParticipant | None, name: str, title: str, *, to: str | None = None
) -> None:
    """Publish the active role as attributes and as a `role` event (nothing without a room)."""
    if local is None:
        return
    try:
        await local.set_attributes({ATTR_ROLE: name, ATTR_ROLE_TITLE: title})
    except Exception as exc:
        logger.warning("could not set role attributes: %s", exc)
    await send_event(local, {"type": "role", "name": name, "title": title}, to=to)


async def report_error(
    local: rtc.LocalParticipant | None, code: str, message: str, *, to: str | None = None
) -> None:
    """Tell the page why the session cannot go on (attribute and `error` event; nothing without a room)."""
    if local is None:
        return
    try:
        await local.set_attributes({ATTR_ERROR: json.dumps({"code": code, "message": message})})
    except Exception as exc:
        logger.warning("could not set error attribute: %s", exc)
    await send_event(local, {"type": "error", "code": code, "message": message}, to=to)
