"""What the agent participant answers in a room: byte-stream topics, text-stream topics, RPC methods.

Anyone in the room can send to a topic or call a method the agent serves (LiveKit checks only
`canPublishData`), so each one is a door into the session. livekit-agents 1.8.9 opens some by default
(its session host on `lk.agent.session` answered any participant with the rendered instructions and the
chat history; the pre-connect audio buffer). RoleCall serves exactly `allowed_surface()`: after the
session starts, `enforce_surface` logs what is registered and removes anything else, with a warning
naming it, so a framework upgrade cannot silently open a new door (`tests/session/test_room_surface.py`
fails first when one appears).

The registries are private to livekit rtc (read through `worker._livekit_compat.room_handlers`): should
they be renamed, the check finds nothing and says so in the log rather than failing the session.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from livekit import rtc

from worker._livekit_compat import PRE_CONNECT_TOPIC, SESSION_HOST_TOPIC, room_handlers
from worker.protocol import CHAT_TOPIC, EVENT_METHOD

logger = logging.getLogger("rolecall.surface")


@dataclass(frozen=True)
class Surface:
    """Topics and methods the agent participant serves."""

    byte_topics: frozenset[str] = frozenset()
    text_topics: frozenset[str] = frozenset()
    rpc_methods: frozenset[str] = frozenset()

    def describe(self) -> str:
        """One line for the log, e.g. `byte streams [], text streams ['lk.chat'], rpc methods []`."""
        return (
            f"byte streams {sorted(self.byte_topics)}, text streams {sorted(self.text_topics)}, "
            f"rpc methods {sorted(self.rpc_methods)}"
        )


def allowed_surface(*, session_host: bool, pre_connect_audio: bool = False) -> Surface:
    """What RoleCall means to serve: typed chat and UI events from the user, the operator's session host
    if on, and the user's pre-connect audio buffer for a role that asks for it
    (`worker.session.pre_connect`)."""
    byte_topics = {SESSION_HOST_TOPIC} if session_host else set()
    if pre_connect_audio:
        byte_topics.add(PRE_CONNECT_TOPIC)
    return Surface(
        byte_topics=frozenset(byte_topics),
        text_topics=frozenset({CHAT_TOPIC}),
        rpc_methods=frozenset({EVENT_METHOD}),
    )


def served_surface(room: rtc.Room) -> Surface | None:
    """What the room's agent participant serves now; None when this rtc version hides it."""
    found = room_handlers(room)
    if found is None:
        return None
    return Surface(found.byte_topics, found.text_topics, found.rpc_methods)


def enforce_surface(room: rtc.Room, allowed: Surface, log_extra: Any = None) -> None:
    """Log what the agent serves; unregister whatever `allowed` does not name."""
    found = served_surface(room)
    if found is None:
        logger.warning(
            "cannot list what the agent serves in this livekit rtc version; check worker/surface.py",
            extra=log_extra,
        )
        return
    logger.info("agent serves: %s", found.describe(), extra=log_extra)
    for topic in found.byte_topics - allowed.byte_topics:
        logger.warning("removing unexpected byte-stream handler %r", topic, extra=log_extra)
        room.unregister_byte_stream_handler(topic)
    for topic in found.text_topics - allowed.text_topics:
        logger.warning("removing unexpected text-stream handler %r", topic, extra=log_extra)
        room.unregister_text_stream_handler(topic)
    for method in found.rpc_methods - allowed.rpc_methods:
        logger.warning("removing unexpected RPC method %r", method, extra=log_extra)
        room.local_participant.unregister_rpc_method(method)
