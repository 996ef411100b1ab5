"""Reading anyio's socket streams with fewer system calls per wake-up, on asyncio and trio.

A client that gets one frame per wake-up (as from a real network) pays for the wake-up itself
more than for the frame; anyio's socket ``receive`` adds system calls to each:

- asyncio: anyio resumes the transport's reading before it waits and pauses it after (two
  ``epoll_ctl`` calls per wake-up, about a sixth of the client's CPU). The ``receive`` given
  here leaves reading on, and pauses it only when the bytes read and not yet taken reach
  ``MAX_UNREAD_BYTES`` (asyncio's ``StreamReader`` does the same with its high-water mark), so
  the buffer stays bounded: at most that plus one read of the transport (256 KiB).
- trio: trio's socket ``recv`` first tries to read, and when nothing is there (the common
  case once the last read took everything) raises and catches ``BlockingIOError``, then waits
  and reads again. The ``receive`` given here waits for the socket to be readable first (a
  checkpoint, as before), then reads once: a tenth of the client's CPU.

``fast_receive(stream)`` gives that ``receive`` for anyio's own socket stream of the running
backend, read through anyio's internals, read defensively: any other stream (a memory stream,
uvloop's transports, another anyio version) keeps its own ``receive``. A TLS stream over such a
socket stream keeps its own too, and reads the socket with the fast one. Errors are
anyio's: ``EndOfStream`` at the end, ``ClosedResourceError`` or ``BrokenResourceError``.
"""

from __future__ import annotations

import asyncio
import socket
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
from anyio.streams.tls import TLSStream

__all__ = ["MAX_UNREAD_BYTES", "fast_receive"]

MAX_UNREAD_BYTES = 1024 * 1024
"""Bytes read from the socket and not yet taken, past which the socket stops being read."""


def fast_receive(stream: anyio.abc.ByteStream) -> Callable[[int], Awaitable[bytes]]:
    """``stream.receive``, with fewer system calls per wake-up when ``stream`` is anyio's
    socket stream on asyncio or trio (else ``stream.receive`` itself). One task at a time
    calls it (the caller's lock)."""
    if isinstance(stream, TLSStream):
        # TLS reads its socket through the stream it wraps: that one gets the fast reads.
        inner = stream.transport_stream
        if isinstance(inner, anyio.abc.ByteStream):
            receive = fast_receive(inner)
            if receive != inner.receive:
                stream.transport_stream = _Reading(inner, receive)
        return stream.receive
    kind = type(stream)
    if kind.__name__ != "SocketStream":
        return stream.receive
    if kind.__module__ == "anyio._backends._trio":
        raw = getattr(getattr(stream, "_trio_socket", None), "_sock", None)
        if isinstance(raw, socket.socket):
            return _TrioReader(stream, raw).receive
        return stream.receive
    transport: Any = getattr(stream, "_transport", None)
    protocol: Any = getattr(stream, "_protocol", None)
    if not (
        kind.__module__ == "anyio._backends._asyncio"
        and isinstance(transport, asyncio.Transport)
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


class _Reading(anyio.abc.ByteStream):
    """``stream`` read through ``receive`` (the TLS wrapper's transport stream)."""

    def __init__(
        self, stream: anyio.abc.ByteStream, receive: Callable[[int], Awaitable[bytes]]
    ) -> None:
        self._stream = stream
        self._receive = receive

    async def receive(self, max_bytes: int = 65536) -> bytes:
        return await self._receive(max_bytes)

    async def send(self, item: bytes) -> None:
        await self._stream.send(item)

    async def send_eof(self) -> None:
        await self._stream.send_eof()

    async def aclose(self) -> None:
        await self._stream.aclose()

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        return self._stream.extra_attributes


class _TrioReader:
    __slots__ = ("_raw", "_stream")

    def __init__(self, stream: anyio.abc.ByteStream, raw: socket.socket) -> None:
        self._stream = stream
        self._raw = raw

    async def receive(self, max_bytes: int) -> bytes:
        import trio  # only ever called on trio

        raw = self._raw
        while True:
            if raw.fileno() < 0:  # closed here (trio would refuse to wait on it)
                raise anyio.ClosedResourceError
            try:
                await trio.lowlevel.wait_readable(raw)  # a checkpoint, readable or not
                data = raw.recv(max_bytes)
            except BlockingIOError:
                continue  # readable was not enough (another reader of the file took it)
            except (trio.ClosedResourceError, OSError) as exc:
                if getattr(self._stream, "_closed", False) or raw.fileno() < 0:
                    raise anyio.ClosedResourceError from exc
                raise anyio.BrokenResourceError from exc
            if not data:
                raise anyio.EndOfStream
            return data


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
