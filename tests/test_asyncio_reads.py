"""transports._asyncio_reads: anyio's asyncio socket read without a pause and a resume around
each wait, its buffer still bounded, the end of the stream as anyio says it; other streams keep
their own receive."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.abc
import pytest
from realtime_sansio.transports import _asyncio_reads
from realtime_sansio.transports._asyncio_reads import unpaused_receive

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
        receive = unpaused_receive(client)
        if anyio_backend == "trio":
            assert receive == client.receive  # no asyncio transport to keep reading
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
        receive = unpaused_receive(client)
        await server.send(b"one")
        assert await receive(100) == b"one"
        # anyio's own receive would have paused it here: a system call per wake-up.
        assert transport.is_reading()
        await server.send(b"two")
        assert await receive(100) == b"two"
        assert transport.is_reading()


@ASYNCIO
async def test_unread_bytes_past_the_bound_pause_the_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_asyncio_reads, "MAX_UNREAD_BYTES", 4096)
    client, server, listener = await _pair()
    async with listener, client, server:
        transport = client._transport  # type: ignore[attr-defined]
        receive = unpaused_receive(client)
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
        assert unpaused_receive(stapled) == stapled.receive  # type: ignore[arg-type]
