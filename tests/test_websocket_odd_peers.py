"""The WebSocket client and server with peers that do what ours never would: a refusal with
no body, a close in the middle of the handshake, a binary frame, a client that hangs up at
once or does not speak HTTP. Raw loopback peers, on asyncio and trio."""

from __future__ import annotations

import anyio
import anyio.abc
import pytest
import wsproto
import wsproto.events as ws
from realtime_sansio.transports.websocket import (
    HandshakeError,
    WebSocketTransport,
    serve_websocket,
)
from test_websocket_handshake import answering, background, listen, read_request, url

pytestmark = pytest.mark.anyio


async def test_a_refusal_without_a_body_says_there_are_no_details() -> None:
    refusal = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"
    async with background() as group:
        port = await listen(group, answering(lambda request: refusal))
        with pytest.raises(HandshakeError) as raised:
            async with WebSocketTransport(url(port)):
                pass
    assert raised.value.status == 403
    assert "no details" in str(raised.value)


async def test_a_close_in_the_middle_of_the_handshake() -> None:
    async def half(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await read_request(stream)
            await stream.send(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 100\r\n\r\nno")

    async with background() as group:
        port = await listen(group, half)
        with pytest.raises(HandshakeError, match="the server closed during the handshake"):
            async with WebSocketTransport(url(port)):
                pass


async def test_a_binary_frame_is_passed_over() -> None:
    async def binary_then_text(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            server = wsproto.WSConnection(wsproto.ConnectionType.SERVER)
            server.receive_data(await read_request(stream))
            assert any(isinstance(e, ws.Request) for e in server.events())
            reply = server.send(ws.AcceptConnection())
            reply += server.send(ws.Message(data=b"\x00\x01"))
            reply += server.send(ws.Message(data='{"type": "x"}'))
            await stream.send(reply)
            await stream.receive()  # until the client hangs up

    async with background() as group:
        port = await listen(group, binary_then_text)
        async with WebSocketTransport(url(port)) as transport:
            assert await transport.receive() == '{"type": "x"}'


async def test_the_server_shrugs_off_clients_that_hang_up_or_do_not_speak_http() -> None:
    handled: list[object] = []
    ports: list[int] = []

    async def handler(connection: object) -> None:
        handled.append(connection)

    async with anyio.create_task_group() as group:
        group.start_soon(lambda: serve_websocket(handler, ready=ports.append))
        with anyio.fail_after(20):
            while not ports:
                await anyio.sleep(0)
            quiet = await anyio.connect_tcp("127.0.0.1", ports[0])
            await quiet.aclose()  # connects and hangs up at once
            chatty = await anyio.connect_tcp("127.0.0.1", ports[0])
            await chatty.send(b"\x16\x03\x01 not http at all\r\n\r\n")
            answer = b""
            try:
                while True:
                    answer += await chatty.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                pass
            await chatty.aclose()
        group.cancel_scope.cancel()
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert handled == []
