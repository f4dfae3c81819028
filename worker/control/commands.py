"""The control commands: the HTTP bodies of `/api/sessions/{room}/...` and the packet the worker gets.

Both sides import this module, so the web backend refuses (with a 4xx) what the worker would refuse.
The app backend holding an API key is trusted to steer the session, but not to flood it: every text is
capped (`MAX_TEXT_CHARS`), the packet fits in one LiveKit data packet (`MAX_PACKET_BYTES`), and the web
backend limits the commands per room (`worker.control.service`).
"""

from __future__ import annotations

import secrets
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from worker.roles._base import ROLE_NAME

CONTROL_TOPIC = "rolecall.control"
"""Data-packet topic of control commands (server-sent only)."""
MAX_TEXT_CHARS = 2000
"""Longest `text`, `instructions` or `goodbye`, in characters."""
MAX_REASON_CHARS = 200
"""Longest `reason` of `end`."""
MAX_PACKET_BYTES = 14_000
"""Largest command packet, in UTF-8 bytes (LiveKit's data packets stay under 15 KiB)."""
COMMAND_ID = r"^cmd_[0-9a-f]{32}$"
MAX_VARS = 32
"""As many variables as a session start takes (`worker.web.models.MAX_VARS`)."""
VarValue = StrictStr | StrictInt | StrictFloat | StrictBool

CommandName = Literal["say", "context", "respond", "handoff", "end"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, use_attribute_docstrings=True)


class SayBody(_Body):
    """`POST /api/sessions/{room}/say`: the agent says this, word for word."""

    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    interrupt: StrictBool = False
    """Stop what the agent is saying first; otherwise it speaks once it is done."""


class ContextBody(_Body):
    """`POST /api/sessions/{room}/context`: information for the agent, without a reply."""

    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)


class RespondBody(_Body):
    """`POST /api/sessions/{room}/respond`: the agent replies now."""

    instructions: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT_CHARS)
    """What the reply should do (for this reply only); without it the agent replies as its role says."""


class HandoffBody(_Body):
    """`POST /api/sessions/{room}/handoff`: the session becomes another role, as a handoff tool would."""

    role: str = Field(min_length=1, max_length=64, pattern=ROLE_NAME)
    vars: dict[str, VarValue] = Field(default_factory=dict, max_length=MAX_VARS)
    """Values for the new role's variables; its variables not given here keep the session's values."""


class EndBody(_Body):
    """`POST /api/sessions/{room}/end`: end the session (report: `end_reason: app_ended`)."""

    reason: str | None = Field(default=None, min_length=1, max_length=MAX_REASON_CHARS)
    """Why, for the log and the `control.applied` event."""
    goodbye: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT_CHARS)
    """Words the agent says, exactly, before it leaves; without them it leaves at once."""


AnyBody = SayBody | ContextBody | RespondBody | HandoffBody | EndBody
BODIES: dict[str, type[AnyBody]] = {
    "say": SayBody,
    "context": ContextBody,
    "respond": RespondBody,
    "handoff": HandoffBody,
    "end": EndBody,
}


class CommandAccepted(_Body):
    """The answer (202) to a command: it is on its way; its outcome comes as a live event."""

    command_id: str = Field(pattern=COMMAND_ID)
    room: str
    command: CommandName


class ControlPacket(_Body):
    """What the worker receives on `CONTROL_TOPIC`."""

    v: Literal[1] = 1
    id: str = Field(pattern=COMMAND_ID)
    command: CommandName
    body: dict[str, object]

    def parsed(self) -> AnyBody:
        """The command's body, checked again (ValidationError when it is not what `command` takes)."""
        return BODIES[self.command].model_validate(self.body)

    def encode(self) -> bytes:
        return self.model_dump_json().encode()


def new_command_id() -> str:
    """A new command id: `cmd_` and 32 hex digits."""
    return f"cmd_{secrets.token_hex(16)}"


def packet(command: CommandName, body: AnyBody) -> ControlPacket:
    """The packet for one command."""
    return ControlPacket(id=new_command_id(), command=command, body=body.model_dump(mode="json"))
