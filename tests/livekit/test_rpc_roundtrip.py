"""The real LiveKit server carries an RPC round trip between two Python participants.

This is the transport every `frontend` tool rides on, so CI proves it works against the pinned
server before anything of ours is involved.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from livekit import rtc

from tests.support.livekit_server import LiveKitServer

pytestmark = pytest.mark.integration


async def _join(server: LiveKitServer, room_name: str, identity: str) -> rtc.Room:
    room = rtc.Room()
    await room.connect(server.url, server.token(identity, room_name))
    return room


async def _wait_for_participant(room: rtc.Room, identity: str, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while identity not in room.remote_participants:
            await asyncio.sleep(0.05)


async def test_rpc_roundtrip_between_two_participants(livekit_server: LiveKitServer) -> None:
    room_name = f"rpc-{uuid.uuid4().hex[:8]}"
    caller_room = await _join(livekit_server, room_name, "caller")
    ui_room = await _join(livekit_server, room_name, "ui")
    seen: list[rtc.RpcInvocationData] = []

    async def add(data: rtc.RpcInvocationData) -> str:
        seen.append(data)
        args = json.loads(data.payload)
        return json.dumps({"sum": args["a"] + args["b"]})

    ui_room.local_participant.register_rpc_method("add", add)
    try:
        await _wait_for_participant(caller_room, "ui")
        reply = await caller_room.local_participant.perform_rpc(
            destination_identity="ui", method="add", payload=json.dumps({"a": 2, "b": 40})
        )
        assert json.loads(reply) == {"sum": 42}
        assert len(seen) == 1
        # The server stamps the caller's identity: this is what a UI may trust.
        assert seen[0].caller_identity == "caller"

        # A method nobody registered is the error code the worker maps to "this UI has no such tool".
        with pytest.raises(rtc.RpcError) as excinfo:
            await caller_room.local_participant.perform_rpc(
                destination_identity="ui", method="no_such_method", payload="{}"
            )
        assert excinfo.value.code == rtc.RpcError.ErrorCode.UNSUPPORTED_METHOD
    finally:
        await caller_room.disconnect()
        await ui_room.disconnect()
