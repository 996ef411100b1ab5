"""Reading an anyio socket stream on asyncio without pausing the socket around every wait.

anyio's asyncio ``SocketStream.receive`` resumes the transport's reading before it waits and
pauses it after (two ``epoll_ctl`` system calls per wake-up): about a sixth of a client's CPU
when frames come one per wake-up, as from a real network. ``unpaused_receive`` gives a
``receive`` for the same stream that leaves reading on, and pauses it only when the bytes read
and not yet taken reach ``MAX_UNREAD_BYTES`` (asyncio's ``StreamReader`` does the same with its
high-water mark), so the buffer stays bounded: at most that plus one read of the transport
(256 KiB). The stream is read through anyio's own internals (its transport and protocol), read
defensively: a stream that is not anyio's asyncio socket stream as expected (trio, a TLS
wrapper, a memory stream, another anyio version) keeps its own ``receive``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.abc
import anyio.lowlevel

__all__ = ["MAX_UNREAD_BYTES", "unpaused_receive"]

MAX_UNREAD_BYTES = 1024 * 1024
"""Bytes read from the socket and not yet taken, past which the socket stops being read."""


def unpaused_receive(stream: anyio.abc.ByteStream) -> Callable[[int], Awaitable[bytes]]:
    """``stream.receive``, without the pause and resume around each wait when ``stream`` is
    anyio's asyncio socket stream (else ``stream.receive`` itself)."""
    transport: Any = getattr(stream, "_transport", None)
    protocol: Any = getattr(stream, "_protocol", None)
    if not (
        isinstance(transport, asyncio.Transport)
        # The standard library's transports call data_received through the instance (below);
        # uvloop's keep the method they found at the start, and would never pause.
        and type(transport).__module__.startswith("asyncio.")
        and isinstance(getattr(protocol, "read_queue", None), deque)
        and isinstance(getattr(protocol, "read_event", None), asyncio.Event)
        and hasattr(protocol, "is_at_eof")
        and callable(getattr(protocol, "data_received", None))
    ):
        return stream.receive
    return _UnpausedReader(stream, transport, protocol).receive


class _UnpausedReader:
    __slots__ = ("_protocol", "_stream", "_transport", "_unread")

    def __init__(self, stream: anyio.abc.ByteStream, transport: Any, protocol: Any) -> None:
        self._stream = stream
        self._transport = transport
        self._protocol = protocol
        self._unread = sum(len(chunk) for chunk in protocol.read_queue)  # read, not taken
        queue_chunk = protocol.data_received

        def data_received(data: bytes) -> None:
            queue_chunk(data)
            self._unread += len(data)
            if self._unread >= MAX_UNREAD_BYTES and transport.is_reading():
                transport.pause_reading()

        # The transport calls its protocol's method through the instance, at every read.
        protocol.data_received = data_received

    async def receive(self, max_bytes: int) -> bytes:
        protocol = self._protocol
        transport = self._transport
        if protocol.read_event.is_set():
            await anyio.lowlevel.checkpoint()  # as anyio does: no read without a checkpoint
        elif transport.is_closing() or protocol.is_at_eof:
            return await self._stream.receive(max_bytes)  # anyio's own end of the stream
        else:
            if not transport.is_reading():  # paused by anyio, or by the bound
                transport.resume_reading()
            await protocol.read_event.wait()
        queue = protocol.read_queue
        if not queue:  # the end of the connection woke the wait: anyio says which
            return await self._stream.receive(max_bytes)
        chunk: bytes = queue.popleft()
        if len(chunk) > max_bytes:
            chunk, leftover = chunk[:max_bytes], chunk[max_bytes:]
            queue.appendleft(leftover)
        self._unread = max(0, self._unread - len(chunk))
        if not queue:
            protocol.read_event.clear()
        return chunk
