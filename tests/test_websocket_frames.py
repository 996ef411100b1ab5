"""The WebSocket transport's hot paths, on a scripted byte stream: the client frames it masks
itself are wsproto's to the byte; ``receive_many`` hands over what is already received, in
order, bounded, and never loses frames that came before the end of the connection;
``send_many`` writes frames in order in one write."""

from __future__ import annotations

import os
from collections import deque
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


def connected(max_bytes: int = 1 << 20) -> tuple[WebSocketConnection, WSConnection, ScriptedStream]:
    """A client connection past its handshake, the server's wsproto end, the client's socket."""
    client = WSConnection(ConnectionType.CLIENT)
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(client.send(ws.Request(host="example", target="/")))
    assert any(isinstance(event, ws.Request) for event in server.events())
    client.receive_data(server.send(ws.AcceptConnection()))
    assert any(isinstance(event, ws.AcceptConnection) for event in client.events())
    stream = ScriptedStream()
    return WebSocketConnection(stream, client, max_message_bytes=max_bytes), server, stream


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
    connection, server, stream = connected(max_bytes=10)
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


# -- the inbound fast path: the same messages and events as wsproto alone ----------------------


def _server_bytes(items: list[tuple[Any, ...]]) -> bytes:
    """The bytes a server sends for ``items`` (wsproto frames, and a few it never writes)."""
    _, server, _ = connected()
    out = b""
    for item in items:
        kind = item[0]
        if kind == "text":
            out += server.send(ws.Message(data=item[1]))
        elif kind == "fragments":
            pieces = item[1]
            for index, piece in enumerate(pieces):
                last = index == len(pieces) - 1
                out += server.send(ws.Message(data=piece, message_finished=last))
        elif kind == "ping":
            out += server.send(ws.Ping(payload=item[1]))
        elif kind == "bytes":
            out += server.send(ws.Message(data=item[1]))
        elif kind == "bad_utf8":
            out += b"\x81\x02\xff\xfe"
        elif kind == "masked":
            out += masked_text_frame("hidden", b"abcd")
        elif kind == "reserved":
            out += b"\xc1\x01x"  # RSV1 set, no extension agreed
        elif kind == "close":
            out += server.send(ws.CloseConnection(code=item[1], reason=item[2]))
        elif kind == "late":  # a text frame after the close (wsproto would not write it)
            out += b"\x81\x04late"
    return out


def _normalised(stream: list[Any]) -> list[tuple[Any, ...]]:
    """Texts and wsproto events as whole messages (fragments joined), for comparison."""
    seen: list[tuple[Any, ...]] = []
    parts: list[Any] = []
    for event in stream:
        if isinstance(event, str):
            seen.append(("text", event))
        elif isinstance(event, ws.TextMessage | ws.BytesMessage):
            parts.append(event.data)
            if event.message_finished:
                joined = "".join(parts) if isinstance(event, ws.TextMessage) else b"".join(parts)
                seen.append(("text" if isinstance(joined, str) else "bytes", joined))
                parts = []
        elif isinstance(event, ws.Ping):
            seen.append(("ping", bytes(event.payload)))
        elif isinstance(event, ws.CloseConnection):
            seen.append(("close", event.code, event.reason))
        else:
            seen.append((type(event).__name__,))
    return seen


ITEMS = st.one_of(
    st.tuples(st.just("text"), st.text(max_size=300)),
    st.tuples(st.just("fragments"), st.lists(st.text(max_size=20), min_size=2, max_size=4)),
    st.tuples(st.just("ping"), st.binary(max_size=10)),
    st.tuples(st.just("bytes"), st.binary(max_size=30)),
    st.tuples(st.sampled_from(["bad_utf8", "masked", "reserved"])),
)


@settings(max_examples=300)
@given(
    st.lists(ITEMS, max_size=8),
    st.booleans(),
    st.lists(st.integers(1, 400), min_size=1, max_size=20),
    st.sampled_from([1 << 20, 64]),
)
def test_the_fast_path_sees_what_wsproto_sees(
    items: list[tuple[Any, ...]], close: bool, cuts: list[int], max_bytes: int
) -> None:
    if close:
        items = [*items, ("close", 1001, "bye"), ("late",)]
    data = _server_bytes(items)
    chunks, at = [], 0
    for cut in cuts * (len(data) // max(1, sum(cuts)) + 1):
        if at >= len(data):
            break
        chunks.append(data[at : at + cut])
        at += cut
    reference, _, _ = connected()
    expected: list[Any] = []
    for chunk in chunks:
        reference._ws.receive_data(chunk)
        expected.extend(reference._ws.events())
    fast, _, _ = connected(max_bytes)
    got: deque[Any] = deque()
    for chunk in chunks:
        fast._inbound.feed(chunk, got)
    assert _normalised(list(got)) == _normalised(expected)


def test_frames_split_anywhere_come_out_whole_and_in_order() -> None:
    _, server, _ = connected()
    texts = ["a" * 200, "é" * 70_000, "short", "x" * 125, "y" * 126]
    data = frames(server, *texts)
    for size in (1, 2, 3, 7, 126, 4096):
        connection, _, _ = connected()
        got: deque[Any] = deque()
        for at in range(0, len(data), size):
            connection._inbound.feed(data[at : at + size], got)
        assert list(got) == texts  # every one whole, by the fast path
