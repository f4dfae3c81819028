"""The live control API: the app backend steers a running session over plain HTTP.

commands.py   the commands (HTTP bodies and the packet the worker receives), their limits
service.py    the web side: which sessions run (LiveKit's RoomService), sending a command to a room
routes.py     the web backend's `/api/sessions` routes (API-key authenticated)
(the worker side, which takes control packets from the LiveKit server only: `worker.session.control`)
cli.py        `python -m worker sessions list|show|say|context|respond|handoff|end`

A command travels web backend → LiveKit server API (`SendData`, topic `CONTROL_TOPIC`, to the agent
participant only) → the worker, which accepts a packet only when it has no sending participant: data
published by a participant always carries its identity (the server sets it), so nobody in the room can
forge a command. Its outcome comes back as a live event (`control.applied` or `control.failed`).
"""

from worker.control.commands import CONTROL_TOPIC, ControlPacket

__all__ = ["CONTROL_TOPIC", "ControlPacket"]
