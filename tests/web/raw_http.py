"""HTTP/1.1 over a raw socket, for requests no polite client sends: bodies in pieces, odd headers."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    """The request line and headers (UTF-8, so a test can send non-ASCII), ending the head."""
    lines = [f"{method} {path} HTTP/1.1", "Host: test", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunked(*chunks: bytes) -> list[bytes]:
    """`chunks` in chunked transfer encoding, one element per chunk, then the last chunk."""
    return [b"%x\r\n%s\r\n" % (len(c), c) for c in chunks] + [b"0\r\n\r\n"]


async def exchange(
    host: str, port: int, pieces: list[bytes], *, pause_s: float = 0.03, deadline_s: float = 30
) -> RawResponse:
    """Send `pieces` as separate TCP segments `pause_s` apart, then read one response."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        async with asyncio.timeout(deadline_s):
            for i, piece in enumerate(pieces):
                if i:
                    await asyncio.sleep(pause_s)  # the server reads what has arrived in between
                writer.write(piece)
                await writer.drain()
            return await read_response(reader)
    finally:
        writer.close()


async def read_response(reader: asyncio.StreamReader) -> RawResponse:
    """One response; its body by Content-Length (without one, to the end of the connection)."""
    head = (await reader.readuntil(b"\r\n\r\n"))[:-4]
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    length = headers.get("Content-Length")
    body = await (reader.readexactly(int(length)) if length is not None else reader.read())
    return RawResponse(int(status_line.split()[1]), headers, body)
