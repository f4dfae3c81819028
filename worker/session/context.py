"""`SessionContext`: what the parts of one session share, fixed when it starts.

Every field is set once; what changes lives in the object that owns it (the report's record, the
lifecycle, the page bridge's discovered tools, the tools' counters), never in the context itself.
Tools get it as their context (`worker.tools`), and tests build one without a room.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from worker.events.log import AppEvents
from worker.report import SessionRecord
from worker.roles import RoleRegistry
from worker.session.lifecycle import Lifecycle
from worker.session.page import Page
from worker.settings import Settings
from worker.tools import SessionTools
from worker.tools.frontend import FrontendBridge


@dataclass(frozen=True)
class SessionContext:
    """One session: whom it serves, with what, and where its story is written."""

    settings: Settings
    registry: RoleRegistry
    participant: str
    """The identity of the user the session serves."""
    session_id: str
    """`<room>:<job id>`; also the report's id."""
    variables: Mapping[str, Any]
    """The dispatch's template variables (read only)."""
    http: aiohttp.ClientSession
    """For http tools: refuses non-public addresses (`worker.tools.egress`)."""
    record: SessionRecord
    lifecycle: Lifecycle
    page: Page
    bridge: FrontendBridge
    tools: SessionTools
    room_name: str = ""
    """The LiveKit room ('' without a room: `python -m worker eval`)."""
    log_extra: Mapping[str, Any] = field(default_factory=dict)
    """Fields every log line of the session carries (room, job, role, participant)."""
    app_events: AppEvents = field(default_factory=AppEvents.off)
    """The session's live events for the app backend (`worker.events`; off until the flow opens them)."""
