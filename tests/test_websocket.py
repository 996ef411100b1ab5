"""The wsproto WebSocket transport over real loopback sockets, on asyncio and on trio.

Peers here are our own ``serve_websocket``, small servers written in the test with wsproto or
h11 (to send what ours never would: fragments, pings, refusals, silence), and a CONNECT proxy.
Every address is 127.0.0.1.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
import anyio.abc
import h11
import pytest
import trustme
from realtime_sansio.protocol import Agent, ModelConfig, events, function_tool
from realtime_sansio.protocol.fake import FakeServerConfig
from realtime_sansio.transports.base import ConnectionClosed, describe_close
from realtime_sansio.transports.runner import run
from realtime_sansio.transports.serve import serve_fake
from realtime_sansio.transports.websocket import (
    HandshakeError,
    WebSocketConnection,
    WebSocketTransport,
    serve_websocket,
)
from wsproto import ConnectionType, WSConnection
from wsproto import events as ws

pytestmark = pytest.mark.anyio

KEY = "sk-test-websocket-0123456789abcdef"


# -- servers ----------------------------------------------------------------------------------


@asynccontextmanager
async def background() -> AsyncIterator[anyio.abc.TaskGroup]:
    """A task group for servers, cancelled when the test's block ends."""
    async with anyio.create_task_group() as group:
        with anyio.fail_after(20):
            yield group
        group.cancel_scope.cancel()


async def start(
    group: anyio.abc.TaskGroup, serve: Callable[..., Coroutine[Any, Any, None]], **kw: Any
) -> int:
    """Start a server taking ``ready=`` (``serve_websocket``, ``serve_fake``); its port."""
    bound: list[int] = []
    ready = anyio.Event()

    def on_ready(port: int) -> None:
        bound.append(port)
        ready.set()

    group.start_soon(partial(serve, host="127.0.0.1", port=0, ready=on_ready, **kw))
    await ready.wait()
    return bound[0]


async def listen(
    group: anyio.abc.TaskGroup, handle: Callable[[anyio.abc.SocketStream], Awaitable[None]]
) -> int:
    """A raw TCP server on loopback; its port."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    group.start_soon(listener.serve, handle)
    return int(listener.extra(anyio.abc.SocketAttribute.local_port))


class RawPeer:
    """The server end of a WebSocket driven by hand with wsproto (fragments, pings...)."""

    def __init__(self, stream: anyio.abc.ByteStream, connection: WSConnection) -> None:
        self.stream = stream
        self.connection = connection

    async def send(self, event: ws.Event) -> None:
        await self.stream.send(self.connection.send(event))

    async def next_event(self) -> ws.Event:
        while True:
            for event in self.connection.events():
                return event
            self.connection.receive_data(await self.stream.receive())


async def raw_websocket_server(
    group: anyio.abc.TaskGroup, handler: Callable[[RawPeer], Awaitable[None]]
) -> int:
    async def handle(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            connection = WSConnection(ConnectionType.SERVER)
            while not any(isinstance(e, ws.Request) for e in connection.events()):
                connection.receive_data(await stream.receive())
            await stream.send(connection.send(ws.AcceptConnection()))
            await handler(RawPeer(stream, connection))

    return await listen(group, handle)


async def echo(connection: WebSocketConnection) -> None:
    try:
        while True:
            await connection.send(await connection.receive())
    except ConnectionClosed:
        pass


def url(port: int, scheme: str = "ws") -> str:
    return f"{scheme}://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"


# -- frames -----------------------------------------------------------------------------------


async def test_text_round_trips() -> None:
    messages = ["hello", json.dumps({"type": "session.update", "é": "ünïcødé ✓"}), "x" * 300_000]
    async with background() as group:
        port = await start(group, serve_websocket, handler=echo)
        async with WebSocketTransport(url(port)) as transport:
            for message in messages:
                await transport.send(message)
            assert [await transport.receive() for _ in messages] == messages


async def test_fragmented_messages_are_joined() -> None:
    parts = ['{"type": "response.', 'output_text.delta", ', '"delta": "ok"}']

    async def fragments(peer: RawPeer) -> None:
        for index, part in enumerate(parts):
            await peer.send(ws.Message(data=part, message_finished=index == len(parts) - 1))
        await peer.send(ws.Message(data="next"))
        await peer.next_event()  # the client's close

    async with background() as group:
        port = await raw_websocket_server(group, fragments)
        async with WebSocketTransport(url(port)) as transport:
            assert await transport.receive() == "".join(parts)
            assert await transport.receive() == "next"


@pytest.mark.parametrize("fragmented", [False, True])
async def test_a_message_over_the_bound_is_refused_with_1009(fragmented: bool) -> None:
    server_saw: list[ConnectionClosed] = []

    async def too_big(connection: WebSocketConnection) -> None:
        await connection.send("small")
        await connection.send("y" * 5000)
        try:
            await connection.receive()
        except ConnectionClosed as closed:
            server_saw.append(closed)

    async def too_big_in_parts(peer: RawPeer) -> None:
        await peer.send(ws.Message(data="small"))
        for _ in range(5):
            await peer.send(ws.Message(data="y" * 1000, message_finished=False))
        await peer.send(ws.Message(data="y"))
        event = await peer.next_event()
        assert isinstance(event, ws.CloseConnection)
        server_saw.append(ConnectionClosed(event.code, event.reason or ""))
        await peer.send(event.response())

    async with background() as group:
        if fragmented:
            port = await raw_websocket_server(group, too_big_in_parts)
        else:
            port = await start(group, serve_websocket, handler=too_big)
        async with WebSocketTransport(url(port), max_message_bytes=4096) as transport:
            assert await transport.receive() == "small"
            with pytest.raises(ConnectionClosed) as raised:
                await transport.receive()
            assert raised.value.code == 1009
            assert "too big" in str(raised.value)
            with pytest.raises(ConnectionClosed):  # and it stays closed
                await transport.send("anything")
        with anyio.fail_after(5):
            while not server_saw:
                await anyio.sleep(0.01)
    assert server_saw[0].code == 1009


async def test_a_ping_is_answered_with_a_pong() -> None:
    async def pinger(peer: RawPeer) -> None:
        await peer.send(ws.Ping(payload=b"are you there"))
        event = await peer.next_event()
        assert isinstance(event, ws.Pong)
        await peer.send(ws.Message(data=f"pong: {bytes(event.payload).decode()}"))
        await peer.next_event()

    async with background() as group:
        port = await raw_websocket_server(group, pinger)
        async with WebSocketTransport(url(port)) as transport:
            assert await transport.receive() == "pong: are you there"


# -- the closing handshake --------------------------------------------------------------------

CLOSES = [
    (1000, "bye", "closed normally"),
    (1001, "session expired", "expires after 60 minutes"),
    (1011, "boom", "internal error"),
    (4000, "beta shape refused", "use the GA dialect"),
]


@pytest.mark.parametrize(("code", "reason", "meaning"), CLOSES)
async def test_the_server_closes(code: int, reason: str, meaning: str) -> None:
    async def closer(connection: WebSocketConnection) -> None:
        await connection.receive()
        await connection.close(code, reason)

    async with background() as group:
        port = await start(group, serve_websocket, handler=closer)
        async with WebSocketTransport(url(port)) as transport:
            await transport.send("close please")
            with pytest.raises(ConnectionClosed) as raised:
                await transport.receive()
            with pytest.raises(ConnectionClosed):
                await transport.send("too late")
    assert (raised.value.code, raised.value.reason) == (code, reason)
    assert str(raised.value) == describe_close(code, reason)
    assert meaning in str(raised.value) and reason in str(raised.value)


@pytest.mark.parametrize(("code", "reason", "meaning"), CLOSES)
async def test_the_client_closes(code: int, reason: str, meaning: str) -> None:
    server_saw: list[ConnectionClosed] = []
    seen = anyio.Event()

    async def watcher(connection: WebSocketConnection) -> None:
        try:
            await connection.receive()
        except ConnectionClosed as closed:
            server_saw.append(closed)
            seen.set()

    async with background() as group:
        port = await start(group, serve_websocket, handler=watcher)
        transport = WebSocketTransport(url(port))
        async with transport:
            started = time.monotonic()
            await transport.close(code, reason)
            assert time.monotonic() - started < 2  # the server answered the close frame
            with pytest.raises(ConnectionClosed) as raised:
                await transport.receive()
        await seen.wait()
    assert (server_saw[0].code, server_saw[0].reason) == (code, reason)
    assert meaning in str(server_saw[0])
    assert raised.value.code == code


async def test_close_while_another_task_receives() -> None:
    # One task waits in receive() (a driver's reader) while another closes: the closing
    # handshake completes without two tasks reading the socket at once.
    server_saw: list[ConnectionClosed] = []
    seen = anyio.Event()

    async def watcher(connection: WebSocketConnection) -> None:
        try:
            await connection.receive()
        except ConnectionClosed as closed:
            server_saw.append(closed)
            seen.set()

    reader_saw: list[ConnectionClosed] = []

    async def reader(transport: WebSocketTransport) -> None:
        try:
            await transport.receive()
        except ConnectionClosed as closed:
            reader_saw.append(closed)

    async with background() as group:
        port = await start(group, serve_websocket, handler=watcher)
        transport = WebSocketTransport(url(port))
        async with transport, anyio.create_task_group() as readers:
            readers.start_soon(reader, transport)
            await anyio.sleep(0.05)  # the reader is waiting on the socket
            await transport.close(1000, "done here")
        await seen.wait()
    assert [(c.code, c.reason) for c in server_saw] == [(1000, "done here")]
    assert [c.code for c in reader_saw] == [1000]


async def test_a_second_close_waits_for_the_first() -> None:
    server_saw: list[ConnectionClosed] = []
    seen = anyio.Event()

    async def slow_to_answer(peer: RawPeer) -> None:
        event = await peer.next_event()
        assert isinstance(event, ws.CloseConnection)
        server_saw.append(ConnectionClosed(event.code, event.reason or ""))
        await anyio.sleep(0.2)
        await peer.send(event.response())
        seen.set()
        await anyio.sleep(1)

    async with background() as group:
        port = await raw_websocket_server(group, slow_to_answer)
        transport = WebSocketTransport(url(port))
        async with transport, anyio.create_task_group() as closers:
            closers.start_soon(transport.close, 1000, "first")
            await anyio.sleep(0.05)
            await transport.close(1000, "second")  # returns once the handshake is done
            assert seen.is_set()
    assert [(c.code, c.reason) for c in server_saw] == [(1000, "first")]


async def test_the_runner_ends_with_a_closing_handshake() -> None:
    server_saw: list[ConnectionClosed | None] = []

    async def host(connection: WebSocketConnection) -> None:
        from realtime_sansio.protocol.fake import FakeRealtimeServer
        from realtime_sansio.transports.hosting import host_connection

        await host_connection(FakeRealtimeServer(), connection)
        try:
            await connection.receive()
        except ConnectionClosed as closed:
            server_saw.append(closed)

    agent = Agent(name="Plain", instructions="Be brief.")
    async with background() as group:
        port = await start(group, serve_websocket, handler=host)
        config = ModelConfig(url=f"ws://127.0.0.1:{port}", api_key=KEY)
        async with run(agent, model_config=config) as session:
            await session.send_message("Hello")
            async for event in session:
                if isinstance(event, events.AgentEndEvent):
                    break
        with anyio.fail_after(5):
            while not server_saw:
                await anyio.sleep(0.01)
    assert [(c.code, c.reason) for c in server_saw if c] == [(1000, "session closed")]


async def test_serve_fake_survives_a_session_expiry() -> None:
    # The fake's timer closes the connection (1001) while its reader waits on the socket.
    from realtime_sansio.protocol.fake import Expire, FakeScript

    script = FakeScript(steps=[Expire(after_ms=50)])
    async with background() as group:
        port = await start(group, serve_fake, script=script, config=FakeServerConfig())
        for _ in range(2):  # and the server still serves the next client
            async with WebSocketTransport(url(port)) as transport:
                frames: list[dict[str, Any]] = []
                with pytest.raises(ConnectionClosed) as raised:
                    while True:
                        frames.append(json.loads(await transport.receive()))
            assert frames[-1]["type"] == "error"
            assert frames[-1]["error"]["code"] == "session_expired"
            assert (raised.value.code, raised.value.reason) == (1001, "session expired")


async def test_a_send_after_the_peer_closed_is_connection_closed() -> None:
    # The peer's last message and its close frame arrive in one read: receive() returns the
    # message, and a send() before the close frame is handled must still be ConnectionClosed.
    answered: list[ws.Event] = []

    async def last_words(peer: RawPeer) -> None:
        message = peer.connection.send(ws.Message(data="last"))
        close = peer.connection.send(ws.CloseConnection(code=1001, reason="going away"))
        await peer.stream.send(message + close)
        answered.append(await peer.next_event())

    async with background() as group:
        port = await raw_websocket_server(group, last_words)
        async with WebSocketTransport(url(port)) as transport:
            assert await transport.receive() == "last"
            with pytest.raises(ConnectionClosed) as raised:
                await transport.send("a reply")
            assert (raised.value.code, raised.value.reason) == (1001, "going away")
            with pytest.raises(ConnectionClosed) as received:
                await transport.receive()
            assert received.value.code == 1001
        with anyio.fail_after(5):
            while not answered:
                await anyio.sleep(0.01)
    assert isinstance(answered[0], ws.CloseConnection) and answered[0].code == 1001


async def test_a_ping_while_closing_is_not_answered() -> None:
    # A pong cannot follow our close frame: a ping that comes while closing is let go.
    async def pings_back(peer: RawPeer) -> None:
        event = await peer.next_event()
        assert isinstance(event, ws.CloseConnection)
        payload = b"still there?"  # (wsproto itself would not ping after a close frame)
        await peer.stream.send(bytes([0x89, len(payload)]) + payload)
        await anyio.sleep(0.1)
        await peer.send(event.response())
        await anyio.sleep(1)

    reader_saw: list[ConnectionClosed] = []

    async def reader(transport: WebSocketTransport) -> None:
        try:
            await transport.receive()
        except ConnectionClosed as closed:
            reader_saw.append(closed)

    async with background() as group:
        port = await raw_websocket_server(group, pings_back)
        transport = WebSocketTransport(url(port))
        async with transport, anyio.create_task_group() as readers:
            readers.start_soon(reader, transport)
            await anyio.sleep(0.05)
            await transport.close(1000, "bye")
    assert [c.code for c in reader_saw] == [1000]


async def test_an_unconnected_transport() -> None:
    transport = WebSocketTransport(url(9))
    await transport.close()  # nothing to close yet
    with pytest.raises(ConnectionClosed, match="not connected yet"):
        await transport.send("hello")
    with pytest.raises(ConnectionClosed, match="not connected yet"):
        await transport.receive()


# -- the server keeps serving -----------------------------------------------------------------


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",  # a browser, curl: no upgrade
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64),  # TLS to a ws:// port
        b"not http at all\r\n\r\n",
    ],
    ids=["plain-http", "tls-hello", "junk"],
)
async def test_a_request_that_is_not_a_websocket_handshake(request_bytes: bytes) -> None:
    async with background() as group:
        port = await start(group, serve_websocket, handler=echo)
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            await stream.send(request_bytes)
            answer = b""
            try:
                async for chunk in stream:
                    answer += chunk
            except anyio.BrokenResourceError:
                pass
        assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
        async with WebSocketTransport(url(port)) as transport:  # the server goes on
            await transport.send("still serving")
            assert await transport.receive() == "still serving"


async def test_a_failing_handler_closes_1011_and_the_server_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def fragile(connection: WebSocketConnection) -> None:
        while True:
            text = await connection.receive()
            if text == "boom":
                raise RuntimeError("the handler broke")
            await connection.send(text)

    async with background() as group:
        port = await start(group, serve_websocket, handler=fragile)
        async with WebSocketTransport(url(port)) as transport:
            await transport.send("boom")
            with pytest.raises(ConnectionClosed) as raised:
                await transport.receive()
        assert raised.value.code == 1011
        async with WebSocketTransport(url(port)) as transport:
            await transport.send("fine")
            assert await transport.receive() == "fine"
    assert any("the handler broke" in r.getMessage() or r.exc_info for r in caplog.records)


def test_describe_close() -> None:
    assert describe_close(1000, "") == "connection closed (code 1000): closed normally"
    assert describe_close(1001, "session expired") == (
        "connection closed (code 1001): the server went away (a Realtime session expires after"
        " 60 minutes); reason: session expired"
    )
    assert "the server hit an internal error" in describe_close(1011, "")
    assert "the server refused the beta API shape: use the GA dialect" in describe_close(4000, "")
    assert describe_close(4321, "custom") == "connection closed (code 4321): reason: custom"
    assert describe_close(None, "") == "connection closed: the connection ended"


# -- a refused handshake ----------------------------------------------------------------------

PHRASES = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests"}


async def refusing_server(
    group: anyio.abc.TaskGroup, status: int, error: dict[str, str], requests: list[bytes]
) -> int:
    """An HTTP server that answers every upgrade with ``status`` and an OpenAI error body."""

    async def handle(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            request = b""
            while b"\r\n\r\n" not in request:
                request += await stream.receive()
            requests.append(request)
            body = json.dumps({"error": error}).encode()
            head = (
                f"HTTP/1.1 {status} {PHRASES[status]}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            await stream.send(head.encode() + body)

    return await listen(group, handle)


@pytest.mark.parametrize("status", [401, 403, 404, 429])
async def test_a_refused_handshake_is_a_clear_error_without_the_key(status: int) -> None:
    error = {"message": f"refused with {status}", "code": "some_code", "type": "invalid_request"}
    requests: list[bytes] = []
    async with background() as group:
        port = await refusing_server(group, status, error, requests)
        transport = WebSocketTransport(url(port), headers={"Authorization": f"Bearer {KEY}"})
        with pytest.raises(HandshakeError) as raised:
            await transport.__aenter__()
    assert f"Authorization: Bearer {KEY}".encode() in requests[0]  # the key was sent...
    exc = raised.value
    assert exc.status == status
    assert f"refused with {status}" in exc.message and "some_code" in exc.message
    assert f"HTTP {status}" in str(exc)
    for text in (str(exc), repr(exc), exc.message, repr(exc.args), repr(transport)):
        assert KEY not in text  # ...and never shown


@pytest.mark.parametrize("header", ["Authorization", "api-key"])
async def test_a_refusal_that_echoes_the_key_does_not_show_it(header: str) -> None:
    # Some servers quote the credential they refused; the error must not repeat it.
    async def echoing(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            request = b""
            while b"\r\n\r\n" not in request:
                request += await stream.receive()
            lines = request.decode().split("\r\n")
            value = next(v for n, _, v in (x.partition(": ") for x in lines) if n == header)
            error = {"message": f"Incorrect API key provided: {value}.", "code": "invalid_api_key"}
            body = json.dumps({"error": error}).encode()
            head = f"HTTP/1.1 401 Unauthorized\r\nContent-Length: {len(body)}\r\n\r\n"
            await stream.send(head.encode() + body)

    value = f"Bearer {KEY}" if header == "Authorization" else "secret-azure-key-9876543210"
    async with background() as group:
        port = await listen(group, echoing)
        with pytest.raises(HandshakeError) as raised:
            async with WebSocketTransport(url(port), headers=[(header, value)]):
                pass
    exc = raised.value
    assert exc.status == 401 and "Incorrect API key provided" in exc.message
    for text in (str(exc), repr(exc), exc.message):
        assert KEY not in text and "secret-azure-key" not in text


async def test_a_refusal_without_a_json_body() -> None:
    async def handle(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await stream.receive()
            body = b"upstream unavailable"
            await stream.send(
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: %d\r\n\r\n%s"
                % (len(body), body)
            )

    async with background() as group:
        port = await listen(group, handle)
        with pytest.raises(HandshakeError) as raised:
            async with WebSocketTransport(url(port)):
                pass
    assert raised.value.status == 503
    assert raised.value.message == "upstream unavailable"


async def test_a_refusal_whose_body_ends_with_the_connection() -> None:
    # No Content-Length: the body is everything until the server closes (HTTP/1.1 allows it).
    async def handle(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await stream.receive()
            body = json.dumps({"error": {"message": "Invalid key.", "code": "invalid_api_key"}})
            await stream.send(b"HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n")
            await stream.send(body.encode())

    async with background() as group:
        port = await listen(group, handle)
        with pytest.raises(HandshakeError) as raised:
            async with WebSocketTransport(url(port)):
                pass
    assert raised.value.status == 401
    assert raised.value.message == "Invalid key. (invalid_api_key)"


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        (b"", HandshakeError, "the server closed during the handshake"),
        (
            b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 100\r\n\r\n{",
            HandshakeError,
            "the server closed during the handshake",
        ),
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", ConnectionError, "the server's answer is not HTTP"),
    ],
    ids=["nothing", "cut-short", "not-http"],
)
async def test_a_broken_handshake_answer(
    answer: bytes, error: type[Exception], message: str
) -> None:
    async def handle(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await stream.receive()
            if answer:
                await stream.send(answer)

    async with background() as group:
        port = await listen(group, handle)
        with pytest.raises(error) as raised:
            async with WebSocketTransport(url(port)):
                pass
    assert message in str(raised.value)


# -- timeouts ---------------------------------------------------------------------------------


async def silent_listener(group: anyio.abc.TaskGroup) -> int:
    """A port whose TCP handshake completes (the kernel's backlog) but that never says a word."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = int(listener.extra(anyio.abc.SocketAttribute.local_port))

    async def keep() -> None:
        async with listener:
            await anyio.sleep_forever()

    group.start_soon(keep)
    return port


@pytest.mark.parametrize("scheme", ["ws", "wss"])
async def test_a_silent_server_times_out(scheme: str) -> None:
    # ws: the WebSocket handshake never gets an answer (handshake_timeout_s);
    # wss: the TLS handshake never does (it is part of connecting: connect_timeout_s).
    async with background() as group:
        port = await silent_listener(group)
        transport = WebSocketTransport(
            url(port, scheme), connect_timeout_s=0.3, handshake_timeout_s=0.3
        )
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            async with transport:
                pass
        elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 2.0


async def test_nothing_listening_is_an_os_error() -> None:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    await listener.aclose()
    with pytest.raises(OSError):
        async with WebSocketTransport(url(port)):
            pass


# -- an HTTP CONNECT proxy --------------------------------------------------------------------


async def _pipe(source: anyio.abc.ByteStream, sink: anyio.abc.ByteStream) -> None:
    try:
        async for chunk in source:
            await sink.send(chunk)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
        pass


async def connect_proxy(
    group: anyio.abc.TaskGroup, targets: list[str], *, refuse: int | None = None
) -> int:
    """A tiny HTTP proxy (h11) that tunnels ``CONNECT host:port`` and records the targets."""

    async def handle(client: anyio.abc.SocketStream) -> None:
        async with client:
            http = h11.Connection(h11.SERVER)
            request: h11.Request | None = None
            while True:
                event = http.next_event()
                if event is h11.NEED_DATA:
                    http.receive_data(await client.receive())
                elif isinstance(event, h11.Request):
                    request = event
                elif isinstance(event, h11.EndOfMessage) or event is h11.PAUSED:
                    break
            assert request is not None and request.method == b"CONNECT"
            target = request.target.decode()
            targets.append(target)
            if refuse is not None:
                response = h11.Response(status_code=refuse, headers=[("Content-Length", "0")])
                await client.send(http.send(response) + http.send(h11.EndOfMessage()))
                return
            host, _, port = target.rpartition(":")
            async with await anyio.connect_tcp(host, int(port)) as upstream:
                await client.send(http.send(h11.Response(status_code=200, headers=[])))
                async with anyio.create_task_group() as pipes:
                    pipes.start_soon(_pipe, client, upstream)
                    await _pipe(upstream, client)
                    pipes.cancel_scope.cancel()

    return await listen(group, handle)


async def test_a_connection_through_an_http_connect_proxy() -> None:
    targets: list[str] = []
    async with background() as group:
        port = await start(group, serve_websocket, handler=echo)
        proxy = await connect_proxy(group, targets)
        async with WebSocketTransport(url(port), proxy=f"http://127.0.0.1:{proxy}") as transport:
            await transport.send("through the tunnel")
            assert await transport.receive() == "through the tunnel"
    assert targets == [f"127.0.0.1:{port}"]


async def test_tls_through_an_http_connect_proxy() -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    targets: list[str] = []
    async with background() as group:
        port = await start(group, serve_websocket, handler=echo, ssl_context=server_context)
        proxy = await connect_proxy(group, targets)
        transport = WebSocketTransport(
            url(port, "wss"), ssl_context=client_context, proxy=f"127.0.0.1:{proxy}"
        )
        async with transport:
            await transport.send("secret")
            assert await transport.receive() == "secret"
    assert targets == [f"127.0.0.1:{port}"]


async def test_a_proxy_that_refuses_the_tunnel() -> None:
    targets: list[str] = []
    async with background() as group:
        proxy = await connect_proxy(group, targets, refuse=407)
        transport = WebSocketTransport(url(9), proxy=f"http://127.0.0.1:{proxy}")
        with pytest.raises(HandshakeError) as raised:
            async with transport:
                pass
    assert raised.value.status == 407
    assert "CONNECT 127.0.0.1:9" in str(raised.value)


# -- the runner over a real WebSocket ---------------------------------------------------------


@function_tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny and 21 C in {city}"


async def test_the_runner_over_a_websocket_to_serve_fake() -> None:
    agent = Agent(name="Forecaster", instructions="Answer about the weather.", tools=[get_weather])
    async with background() as group:
        port = await start(group, serve_fake, config=FakeServerConfig())
        config = ModelConfig(url=f"ws://127.0.0.1:{port}", api_key=KEY)
        async with run(agent, model_config=config) as session:
            await session.send_message("What is the weather in Paris?")
            seen: list[events.SessionEvent] = []
            async for event in session:
                seen.append(event)
                if isinstance(event, events.AgentEndEvent) and not session.busy:
                    break
    (start_event,) = [e for e in seen if isinstance(e, events.ToolStartEvent)]
    assert json.loads(start_event.arguments) == {"city": "Paris"}
    (end,) = [e for e in seen if isinstance(e, events.ToolEndEvent)]
    assert end.output == "Sunny and 21 C in Paris" and not end.failed
    transcript = "".join(
        e.delta
        for e in seen
        if isinstance(e, events.TranscriptDeltaEvent) and e.role == "assistant"
    )
    assert "Sunny and 21 C in Paris" in transcript
    assert any(isinstance(e, events.AudioEvent) for e in seen)
