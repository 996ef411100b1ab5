"""transports._socket_reads: anyio's socket reads with fewer system calls per wake-up (asyncio:
no pause and resume around each wait, the buffer still bounded; trio: wait, then one read), the
bytes and the ends of the stream as anyio's own receive gives them; other streams keep theirs."""

from __future__ import annotations

import os
import socket
import ssl
import struct
from typing import Any

import anyio
import anyio.abc
import pytest
import trustme
from anyio.streams.tls import TLSStream
from realtime_sansio.transports import _socket_reads
from realtime_sansio.transports._socket_reads import fast_receive

pytestmark = pytest.mark.anyio


async def _pair() -> tuple[anyio.abc.SocketStream, anyio.abc.SocketStream, Any]:
    """A loopback TCP connection: (client stream, server stream, listener)."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    client = await anyio.connect_tcp("127.0.0.1", port)
    server = await listener.listeners[0].accept()
    return client, server, listener


async def test_reads_every_byte_in_order_and_the_end(anyio_backend: str) -> None:
    client, server, listener = await _pair()
    async with listener, client, server:
        receive = fast_receive(client)
        assert receive != client.receive  # anyio's socket stream: the fast path
        sent = bytes(range(256)) * 64
        got = bytearray()
        for piece in (sent[:100], sent[100:5000], sent[5000:]):
            await server.send(piece)
            end = len(got) + len(piece)
            while len(got) < end:
                chunk = await receive(1000)
                assert len(chunk) <= 1000  # a longer chunk is split, the rest kept
                got += chunk
        assert got == sent
        await server.aclose()
        with pytest.raises(anyio.EndOfStream):
            await receive(1000)


ASYNCIO = pytest.mark.parametrize("anyio_backend", ["asyncio"])


@ASYNCIO
async def test_reading_stays_on_between_waits() -> None:
    client, server, listener = await _pair()
    async with listener, client, server:
        transport = client._transport  # type: ignore[attr-defined]
        receive = fast_receive(client)
        await server.send(b"one")
        assert await receive(100) == b"one"
        # anyio's own receive would have paused it here: a system call per wake-up.
        assert transport.is_reading()
        await server.send(b"two")
        assert await receive(100) == b"two"
        assert transport.is_reading()
        await server.send(b"end")
        await server.aclose()
        while not client._protocol.is_at_eof:  # type: ignore[attr-defined]
            await anyio.sleep(0)  # the end read with the last bytes, before they are taken
        assert await receive(100) == b"end"
        with pytest.raises(anyio.EndOfStream):
            await receive(100)


@ASYNCIO
async def test_unread_bytes_past_the_bound_pause_the_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_socket_reads, "MAX_UNREAD_BYTES", 4096)
    client, server, listener = await _pair()
    async with listener, client, server:
        transport = client._transport  # type: ignore[attr-defined]
        receive = fast_receive(client)
        await server.send(b"x")
        assert await receive(100) == b"x"
        sent = bytes(range(256)) * 4096  # 1 MiB, more than a read: while nobody reads
        async with anyio.create_task_group() as group:
            group.start_soon(server.send, sent)  # it may wait for the socket
            for _ in range(100):
                await anyio.sleep(0)
            assert not transport.is_reading()  # paused at the bound: the rest waits
            queue = client._protocol.read_queue  # type: ignore[attr-defined]
            assert 4096 <= sum(len(chunk) for chunk in queue) < len(sent)
            got = bytearray()
            while len(got) < len(sent):
                got += await receive(65536)  # reading resumes once the queue is taken
        assert got == sent


@ASYNCIO
async def test_a_stream_that_is_not_an_asyncio_socket_keeps_its_receive() -> None:
    send, receive_stream = anyio.create_memory_object_stream[bytes](1)
    stapled = anyio.streams.stapled.StapledObjectStream(send, receive_stream)
    async with stapled:
        assert fast_receive(stapled) == stapled.receive  # type: ignore[arg-type]


async def test_a_receive_waiting_when_the_stream_closes_ends_at_once(anyio_backend: str) -> None:
    client, server, listener = await _pair()
    async with listener, server:
        receive = fast_receive(client)
        ended: list[BaseException] = []

        async def wait() -> None:
            try:
                await receive(100)
            except (anyio.ClosedResourceError, anyio.BrokenResourceError) as exc:
                ended.append(exc)

        async with anyio.create_task_group() as group:
            group.start_soon(wait)
            await anyio.wait_all_tasks_blocked()
            await client.aclose()
        assert len(ended) == 1 and isinstance(ended[0], anyio.ClosedResourceError)
        with pytest.raises(anyio.ClosedResourceError):
            await receive(100)


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_trio_reads_again_when_readable_was_not_enough() -> None:
    from realtime_sansio.transports._socket_reads import _TrioReader

    class Contended(socket.socket):
        """A socket another reader of its file beats to the first read."""

        beaten = 0

        def recv(self, size: int, flags: int = 0) -> bytes:
            if not self.beaten:
                self.beaten += 1
                raise BlockingIOError
            return super().recv(size, flags)

    ours, theirs = socket.socketpair()
    contended = Contended(fileno=os.dup(ours.fileno()))
    contended.setblocking(False)
    try:
        reader = _TrioReader(anyio.streams.memory.MemoryObjectReceiveStream, contended)  # type: ignore[arg-type]
        theirs.sendall(b"hello")
        assert await reader.receive(100) == b"hello"
        assert contended.beaten == 1
        theirs.close()
        with pytest.raises(anyio.EndOfStream):
            await reader.receive(100)
        contended.close()
        with pytest.raises(anyio.ClosedResourceError):  # closed here: not the peer's doing
            await reader.receive(100)
    finally:
        contended.close()
        ours.close()


@ASYNCIO
async def test_a_socket_stream_of_another_kind_keeps_its_receive() -> None:
    class SocketStream:  # named like anyio's, from elsewhere
        async def receive(self, max_bytes: int = 65536) -> bytes:
            return b""

    other = SocketStream()
    assert fast_receive(other) == other.receive  # type: ignore[arg-type]
    SocketStream.__module__ = "anyio._backends._trio"  # as if anyio's, without its socket
    assert fast_receive(other) == other.receive  # type: ignore[arg-type]


async def test_a_reset_connection_is_broken(anyio_backend: str) -> None:
    client, server, listener = await _pair()
    async with listener, client:
        receive = fast_receive(client)
        raw = server.extra(anyio.abc.SocketAttribute.raw_socket)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        await server.aclose()  # a reset (RST), not an orderly end
        with pytest.raises(anyio.BrokenResourceError):
            await receive(100)


async def test_tls_reads_its_socket_the_fast_way(anyio_backend: str) -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    client, server, listener = await _pair()
    async with listener, anyio.create_task_group() as group:  # no closing handshakes: no wait
        accepted: list[TLSStream] = []

        async def accept() -> None:
            wrapped = await TLSStream.wrap(
                server, server_side=True, ssl_context=server_context, standard_compatible=False
            )
            accepted.append(wrapped)

        group.start_soon(accept)
        secure = await TLSStream.wrap(
            client, hostname="127.0.0.1", ssl_context=client_context, standard_compatible=False
        )
    async with secure, accepted[0] as peer:
        receive = fast_receive(secure)
        assert receive == secure.receive  # TLS keeps its own receive, over the fast one
        assert secure.transport_stream is not client
        assert secure.extra(anyio.abc.SocketAttribute.local_port)  # the socket's, still
        sent = bytes(range(256)) * 256
        got = bytearray()
        async with anyio.create_task_group() as group:
            group.start_soon(peer.send, sent)  # it may wait for the socket
            while len(got) < len(sent):
                got += await receive(65536)
        assert got == sent
        await secure.send(b"back")
        assert await peer.receive() == b"back"
        await peer.aclose()
        with pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
            await receive(100)
