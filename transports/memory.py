"""The in-memory transport: two connected endpoints, no network, the same driver code.

``FakeServerTransport`` is the one applications use: a client end whose server end is the
fake Realtime server, hosted in the same event loop. ``FakeServerConnections`` makes one per
connection, each to a fresh fake server, for a session that reconnects or recycles
(``run(transport_factory=FakeServerConnections())``).

``memory_pair()`` gives a client end and a server end joined by bounded anyio streams (a
frame is a ``str``; ``max_frames`` frames may wait in each direction, then ``send`` waits:
backpressure, not unbounded memory). Closing either end ends both, with the close code and
reason passed to the other side as ``ConnectionClosed``.
"""

from __future__ import annotations

import time
from collections import deque
from types import TracebackType

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from realtime_sansio.protocol.fake import (
    FakeRealtimeServer,
    FakeScript,
    FakeServerConfig,
    FakeServers,
)
from realtime_sansio.protocol.fake.host import ServerCore

from .base import ClosingOnExit, ConnectionClosed
from .hosting import host_connection

__all__ = [
    "DEFAULT_MAX_FRAMES",
    "FakeServerConnections",
    "FakeServerTransport",
    "MemoryEndpoint",
    "memory_pair",
]

DEFAULT_MAX_FRAMES = 256
"""Frames that may wait in each direction before ``send`` waits for the reader."""


class _Link:
    """What both ends share: how the connection ended, once it has."""

    def __init__(self) -> None:
        self.closed: ConnectionClosed | None = None


class MemoryEndpoint(ClosingOnExit):
    """One end of an in-memory connection; implements ``Transport``."""

    def __init__(
        self,
        outgoing: MemoryObjectSendStream[str],
        incoming: MemoryObjectReceiveStream[str],
        link: _Link,
        peer_closes: list[MemoryObjectSendStream[str]],
    ) -> None:
        self._outgoing = outgoing
        self._incoming = incoming
        self._link = link
        self._peer_closes = peer_closes

    async def send(self, text: str) -> None:
        if self._link.closed is not None:
            raise self._link.closed
        try:
            await self._outgoing.send(text)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            raise self._link.closed or ConnectionClosed(1006, "the peer went away") from None

    async def receive(self) -> str:
        try:
            return await self._incoming.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            raise self._link.closed or ConnectionClosed(1006, "the peer went away") from None

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self._link.closed is None:
            self._link.closed = ConnectionClosed(code, reason)
        # Ending both send streams lets each side's receive drain what was sent, then end.
        for stream in self._peer_closes:
            stream.close()


def memory_pair(
    max_frames: int = DEFAULT_MAX_FRAMES,
) -> tuple[MemoryEndpoint, MemoryEndpoint]:
    """A connected (client, server) pair of in-memory endpoints."""
    to_server, from_client = anyio.create_memory_object_stream[str](max_frames)
    to_client, from_server = anyio.create_memory_object_stream[str](max_frames)
    link = _Link()
    senders = [to_server, to_client]
    client = MemoryEndpoint(to_server, from_server, link, senders)
    server = MemoryEndpoint(to_client, from_client, link, senders)
    return client, server


def _epoch() -> float:
    """The Unix time at the event loop's time 0, for the dates a fake session reports."""
    return time.time() - anyio.current_time()


class FakeServerTransport:
    """A client transport wired in memory to a server core run in the same event loop.

    ``async with FakeServerTransport()`` hosts a fresh fake Realtime server
    (``realtime_sansio.protocol.fake.FakeRealtimeServer``) and connects to it; pass ``core``
    to host another (a scripted one, your own double). No sockets: the same driver code as over
    a network, at memory speed.
    """

    def __init__(self, core: ServerCore | None = None, *, max_frames: int = DEFAULT_MAX_FRAMES):
        self._core = core
        self._max_frames = max_frames
        self._client: MemoryEndpoint | None = None
        self._group: anyio.abc.TaskGroup | None = None

    @property
    def core(self) -> ServerCore | None:
        """The hosted server core (made on entering when none was given)."""
        return self._core

    async def __aenter__(self) -> FakeServerTransport:
        if self._core is None:
            self._core = FakeRealtimeServer(epoch=_epoch())
        client, server = memory_pair(self._max_frames)
        group = anyio.create_task_group()
        await group.__aenter__()
        group.start_soon(host_connection, self._core, server)
        self._client, self._group = client, group
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            await self._client.close(1000, "")
        if self._group is not None:
            self._group.cancel_scope.cancel()
            await self._group.__aexit__(exc_type, exc, tb)

    def _endpoint(self) -> MemoryEndpoint:
        if self._client is None:
            raise ConnectionClosed(None, "not connected yet: use `async with` first")
        return self._client

    async def send(self, text: str) -> None:
        await self._endpoint().send(text)

    async def receive(self) -> str:
        return await self._endpoint().receive()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._endpoint().close(code, reason)


class FakeServerConnections:
    """Connections to the fake server as the real one gives them, for
    ``run(transport_factory=...)``: each call is a ``FakeServerTransport`` (not yet
    connected) to a fresh ``FakeRealtimeServer`` (``fake.FakeServers``: the same config, the
    script for its first ``script.connections`` connections, ids that never repeat), so two
    connections can be open at once, as a recycle has them. ``servers`` holds the servers of
    the last ``MAX_KEPT`` connections, oldest first, for a test to look into.
    """

    MAX_KEPT = 16

    def __init__(
        self,
        config: FakeServerConfig | None = None,
        *,
        script: FakeScript | None = None,
        max_frames: int = DEFAULT_MAX_FRAMES,
    ) -> None:
        self._servers = FakeServers(config, script=script)
        self._max_frames = max_frames
        self.servers: deque[FakeRealtimeServer] = deque(maxlen=self.MAX_KEPT)

    @property
    def count(self) -> int:
        """How many connections were made."""
        return self._servers.count

    def __call__(self) -> FakeServerTransport:
        server = self._servers(epoch=_epoch())
        self.servers.append(server)
        return FakeServerTransport(server, max_frames=self._max_frames)
