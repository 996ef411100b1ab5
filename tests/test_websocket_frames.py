"""The WebSocket transport's hot paths, on a scripted byte stream: the client frames it masks
itself are wsproto's to the byte; ``receive_many`` hands over what is already received, in
order, bounded, and never loses frames that came before the end of the connection;
``send_many`` writes frames in order in one write."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from realtime_sansio.transports.base import ConnectionClosed
from realtime_sansio.transports.websocket import WebSocketConnection, masked_text_frame
from wsproto import ConnectionType, WSConnection
from wsproto import events as ws
from wsproto.frame_protocol import FrameProtocol

pytestmark = pytest.mark.anyio


def wsproto_frame(text: str, key: bytes, monkeypatch: Any) -> bytes:
    """What wsproto writes for ``text`` from a client whose random mask is ``key``."""
    with monkeypatch.context() as patch:
        patch.setattr(os, "urandom", lambda size: key[:size])
        return bytes(FrameProtocol(client=True, extensions=[]).send_data(text))


SIZES = [0, 1, 3, 4, 5, 125, 126, 127, 1280, 65535, 65536, 70001]


@pytest.mark.parametrize("size", SIZES)
def test_masked_frames_are_wsprotos_at_each_length_boundary(size: int, monkeypatch: Any) -> None:
    text = ("é" if size % 2 else "a") * (size // (2 if size % 2 else 1)) + "z" * (size % 2)
    key = bytes([size % 251, 0xFF, 0x00, 0x5A])
    assert masked_text_frame(text, key) == wsproto_frame(text, key, monkeypatch)


@settings(max_examples=300)
@given(st.text(max_size=300), st.binary(min_size=4, max_size=4))
def test_masked_frames_are_wsprotos(text: str, key: bytes) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert masked_text_frame(text, key) == wsproto_frame(text, key, monkeypatch)


class ScriptedStream(anyio.abc.ByteStream):
    """The client's socket: ``receive`` hands out the chunks queued, ``send`` keeps writes."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.writes: list[bytes] = []
        self.reads = 0

    async def receive(self, max_bytes: int = 65536) -> bytes:
        self.reads += 1
        if not self.chunks:
            raise anyio.EndOfStream
        return self.chunks.pop(0)

    async def send(self, item: bytes) -> None:
        self.writes.append(bytes(item))

    async def send_eof(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


def connected() -> tuple[WebSocketConnection, WSConnection, ScriptedStream]:
    """A client connection past its handshake, the server's wsproto end, the client's socket."""
    client = WSConnection(ConnectionType.CLIENT)
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(client.send(ws.Request(host="example", target="/")))
    assert any(isinstance(event, ws.Request) for event in server.events())
    client.receive_data(server.send(ws.AcceptConnection()))
    assert any(isinstance(event, ws.AcceptConnection) for event in client.events())
    stream = ScriptedStream()
    return WebSocketConnection(stream, client), server, stream


def frames(server: WSConnection, *texts: str) -> bytes:
    return b"".join(server.send(ws.Message(data=text)) for text in texts)


def received_by(server: WSConnection, stream: ScriptedStream) -> Iterator[Any]:
    server.receive_data(b"".join(stream.writes))
    stream.writes.clear()
    return server.events()


async def test_receive_many_takes_what_one_read_brought_in_order_and_bounded() -> None:
    connection, server, stream = connected()
    stream.chunks = [frames(server, *(f"m{i}" for i in range(7))), frames(server, "later")]
    assert await connection.receive_many(5) == ["m0", "m1", "m2", "m3", "m4"]
    assert stream.reads == 1
    assert await connection.receive_many(5) == ["m5", "m6"]  # no read while some are here
    assert stream.reads == 1
    assert await connection.receive_many(5) == ["later"]
    assert stream.reads == 2


async def test_receive_many_joins_fragments_and_answers_pings_between_messages() -> None:
    connection, server, stream = connected()
    stream.chunks = [
        server.send(ws.Message(data="he", message_finished=False))
        + server.send(ws.Ping(payload=b"p"))
        + server.send(ws.Message(data="llo"))
        + frames(server, "next")
    ]
    assert await connection.receive_many(10) == ["hello", "next"]
    assert [type(event) for event in received_by(server, stream)] == [ws.Pong]


async def test_frames_before_the_close_are_handed_over_then_the_close_is_raised() -> None:
    connection, server, stream = connected()
    stream.chunks = [
        frames(server, "one", "two") + server.send(ws.CloseConnection(code=1001, reason="bye"))
    ]
    assert await connection.receive_many(10) == ["one", "two"]
    with pytest.raises(ConnectionClosed) as closed:
        await connection.receive_many(10)
    assert closed.value.code == 1001 and closed.value.reason == "bye"
    with pytest.raises(ConnectionClosed):
        await connection.receive()


async def test_frames_before_an_oversized_message_are_handed_over_then_it_is_refused() -> None:
    connection, server, stream = connected()
    connection._max = 10
    stream.chunks = [frames(server, "short", "x" * 11, "never")]
    assert await connection.receive_many(10) == ["short"]
    with pytest.raises(ConnectionClosed, match="exceeded 10 bytes") as closed:
        await connection.receive_many(10)
    assert closed.value.code == 1009


async def test_the_end_of_the_stream_after_frames_loses_none() -> None:
    connection, server, stream = connected()
    stream.chunks = [frames(server, "a", "b")]
    assert await connection.receive_many(10) == ["a", "b"]
    with pytest.raises(ConnectionClosed) as closed:
        await connection.receive_many(10)
    assert closed.value.code == 1006


async def test_send_many_writes_the_frames_in_order_in_one_write() -> None:
    connection, server, stream = connected()
    await connection.send_many(["first", "second", "é third"])
    assert len(stream.writes) == 1
    texts = [event.data for event in received_by(server, stream)]
    assert texts == ["first", "second", "é third"]


async def test_send_many_on_a_closed_connection_raises_as_send_does() -> None:
    connection, _, stream = connected()
    await connection.close(1000, "done")
    stream.writes.clear()
    with pytest.raises(ConnectionClosed):
        await connection.send_many(["late"])
    assert stream.writes == []
