"""Read an HTTP body to its end under a byte cap (http tool answers and web backend requests alike).

aiohttp's `StreamReader.read(n)` returns whatever has arrived so far, not the body: over a real
network a body larger than one TCP segment, or one sent chunked, arrives in pieces. `read_capped`
reads every piece until the end of the body. It refuses a declared `Content-Length` over the cap
before reading anything, and counts bytes as they arrive, after aiohttp's transparent gzip/deflate
decoding (which works in bounded steps), so a compression bomb stops at the cap with bounded memory.
A body over the cap is refused, never truncated.
"""

from __future__ import annotations

from aiohttp import StreamReader


class BodyTooLarge(Exception):
    """The body is longer than the cap, by its `Content-Length` or as found while reading."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"the body is larger than {cap} bytes")
        self.cap = cap


async def read_capped(stream: StreamReader, cap: int, *, declared: int | None = None) -> bytes:
    """The whole body from `stream`, or BodyTooLarge once it (or its `declared` length) is over `cap`.

    `declared` is the `Content-Length` header. For a compressed body that is the compressed size,
    smaller than the decoded body for any real JSON, so refusing on it early is safe.
    """
    if declared is not None and declared > cap:
        raise BodyTooLarge(cap)
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream.iter_any():
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge(cap)
        chunks.append(chunk)
    return b"".join(chunks)
