"""The client's handshake hardened: a refusal's body is bounded, the credentials it quotes are
redacted however written, the inbound bound counts bytes, a wrong ``Sec-WebSocket-Accept`` and
each timeout say what went wrong and where (the URL masked). Servers are raw loopback sockets
written here, to answer what ours never would. On asyncio and trio."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
import anyio.abc
import pytest
from realtime_sansio.transports.base import ConnectionClosed
from realtime_sansio.transports.websocket import (
    MAX_REFUSAL_BODY_BYTES,
    HandshakeError,
    WebSocketConnection,
    WebSocketTransport,
    serve_websocket,
)
from secret_helpers import shows

pytestmark = pytest.mark.anyio

KEY = "sk-proj-Hs7_Lm2-Vb9Tz4Wc8Rn1Ya6Pk3Sd5Fg0Hj"
TOKEN = "gw-token-0f1e2d3c4b5a69788796a5b4"


@asynccontextmanager
async def background() -> AsyncIterator[anyio.abc.TaskGroup]:
    async with anyio.create_task_group() as group:
        with anyio.fail_after(20):
            yield group
        group.cancel_scope.cancel()


async def listen(
    group: anyio.abc.TaskGroup, handle: Callable[[anyio.abc.SocketStream], Awaitable[None]]
) -> int:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    group.start_soon(listener.serve, handle)
    return int(listener.extra(anyio.abc.SocketAttribute.local_port))


async def read_request(stream: anyio.abc.SocketStream) -> bytes:
    request = b""
    while b"\r\n\r\n" not in request:
        request += await stream.receive()
    return request


def answering(answer: Callable[[bytes], bytes]) -> Callable[[anyio.abc.SocketStream], Any]:
    """A server that reads the upgrade request and sends ``answer(request)``."""

    async def handle(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await stream.send(answer(await read_request(stream)))
            await stream.receive()  # until the client hangs up

    return handle


def url(port: int) -> str:
    return f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"


# -- the refusal's body -------------------------------------------------------------------------


async def test_an_endless_refusal_body_is_read_up_to_the_bound() -> None:
    sent = [0]

    async def endless(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await read_request(stream)
            # No Content-Length: the body runs until the connection ends, which it never does.
            await stream.send(b"HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n")
            chunk = b"Unauthorized. " * 4096
            try:
                while True:
                    await stream.send(chunk)
                    sent[0] += len(chunk)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                pass

    async with background() as group:
        port = await listen(group, endless)
        with pytest.raises(HandshakeError) as raised:
            async with WebSocketTransport(url(port)):
                pass
    assert raised.value.status == 401
    assert raised.value.message.startswith("Unauthorized. Unauthorized.")
    assert len(raised.value.message) <= 300
    assert sent[0] < 64 * MAX_REFUSAL_BODY_BYTES  # the client stopped reading early


@pytest.mark.parametrize(
    "body",
    [
        # A text page wrapped mid-key, as a gateway's error page may be.
        lambda key: f"Invalid credentials: {key[:21]}\r\n{key[21:]}.".encode(),
        # JSON whose message breaks the key with an escaped line break.
        lambda key: json.dumps({"error": {"message": f"bad key {key[:9]}\n{key[9:]}"}}).encode(),
        # Percent-encoded, as a redirect URL quoting the request may be.
        lambda key: f"see /login?key={''.join(f'%{ord(c):02X}' for c in key)}".encode(),
        # JSON-escaped character by character.
        lambda key: ('{"error":"' + "".join(f"\\u{ord(c):04x}" for c in key) + '"}').encode(),
        # The key just where the message is cut at 300 characters.
        lambda key: ("x" * 290 + " " + key).encode(),
    ],
    ids=["wrapped", "json-newline", "percent", "escaped", "at-the-cut"],
)
@pytest.mark.parametrize("secret", [KEY, TOKEN])
async def test_a_refusal_quoting_the_credential_in_any_form_does_not_show_it(
    body: Callable[[str], bytes], secret: str
) -> None:
    def refuse(request: bytes) -> bytes:
        content = body(secret)
        head = f"HTTP/1.1 401 Unauthorized\r\nContent-Length: {len(content)}\r\n\r\n"
        return head.encode() + content

    headers = [("Authorization", f"Bearer {KEY}"), ("X-Gateway-Token", TOKEN)]
    async with background() as group:
        port = await listen(group, answering(refuse))
        with pytest.raises(HandshakeError) as raised:
            async with WebSocketTransport(url(port), headers=headers):
                pass
    text = str(raised.value) + repr(raised.value) + raised.value.message
    assert not shows(text, secret)
    assert "<redacted" in text  # cut at 300 characters in the last case


# -- the inbound bound counts bytes ------------------------------------------------------------


@asynccontextmanager
async def sending(text: str) -> AsyncIterator[str]:
    """A WebSocket server that sends ``text`` to each client; the URL to it."""

    async def handler(connection: WebSocketConnection) -> None:
        await connection.send(text)
        with anyio.move_on_after(5):
            await connection.receive()

    async with background() as group:
        ready = anyio.Event()
        ports: list[int] = []

        def on_ready(port: int) -> None:
            ports.append(port)
            ready.set()

        group.start_soon(partial(serve_websocket, handler, "127.0.0.1", 0, ready=on_ready))
        await ready.wait()
        yield url(ports[0])


@pytest.mark.parametrize("char", ["\u00e9", "\u20ac", "\U0001f600"])  # 2, 3 and 4 bytes
async def test_the_inbound_bound_counts_utf8_bytes(char: str) -> None:
    bound = 1200
    width = len(char.encode())
    fits = char * (bound // width)  # at most the bound in bytes
    over = char * (bound // width + 1)  # fewer characters than the bound, more bytes
    assert len(over) <= bound < len(over.encode())
    async with (
        sending(fits) as address,
        WebSocketTransport(address, max_message_bytes=bound) as transport,
    ):
        assert await transport.receive() == fits
    async with (
        sending(over) as address,
        WebSocketTransport(address, max_message_bytes=bound) as transport,
    ):
        with pytest.raises(ConnectionClosed) as closed:
            await transport.receive()
    assert closed.value.code == 1009


# -- a wrong Sec-WebSocket-Accept ----------------------------------------------------------------


def _accept(request: bytes, *, wrong: bool) -> bytes:
    key = next(
        line.split(b":", 1)[1].strip()
        for line in request.split(b"\r\n")
        if line.lower().startswith(b"sec-websocket-key:")
    )
    digest = hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()
    accept = base64.b64encode(hashlib.sha1(b"not the key").digest() if wrong else digest)
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )


async def test_a_wrong_sec_websocket_accept_says_so() -> None:
    async with background() as group:
        port = await listen(group, answering(partial(_accept, wrong=True)))
        with pytest.raises(ConnectionError) as raised:
            async with WebSocketTransport(url(port)):
                pass
    message = str(raised.value)
    assert "Sec-WebSocket-Accept was wrong" in message
    assert message.startswith(url(port)) and "not HTTP" not in message


async def test_a_right_sec_websocket_accept_connects() -> None:
    async with background() as group:
        port = await listen(group, answering(partial(_accept, wrong=False)))
        async with WebSocketTransport(url(port)) as transport:
            assert transport.url == url(port)


# -- timeouts name the URL and the step ----------------------------------------------------------


async def silent(stream: anyio.abc.SocketStream) -> None:
    async with stream:
        await anyio.sleep_forever()


async def test_a_handshake_timeout_names_the_url_and_the_step() -> None:
    async with background() as group:
        port = await listen(group, silent)
        address = f"ws://127.0.0.1:{port}/v1/realtime?token={TOKEN}"
        with pytest.raises(TimeoutError) as raised:
            async with WebSocketTransport(address, handshake_timeout_s=0.05):
                pass
    assert str(raised.value) == (
        f"ws://127.0.0.1:{port}/v1/realtime?token=<redacted>: the WebSocket handshake took"
        " longer than 0.05 s (handshake_timeout_s)"
    )


async def test_a_tls_timeout_names_the_step() -> None:
    async with background() as group:
        port = await listen(group, silent)
        with pytest.raises(TimeoutError, match=r"the TLS handshake took longer than 0\.05 s"):
            async with WebSocketTransport(f"wss://127.0.0.1:{port}/", connect_timeout_s=0.05):
                pass


async def test_a_proxy_timeout_names_the_step() -> None:
    async with background() as group:
        proxy = await listen(group, silent)
        transport = WebSocketTransport(
            "wss://api.example.test/v1/realtime",
            proxy=f"http://127.0.0.1:{proxy}",
            connect_timeout_s=0.05,
        )
        with pytest.raises(TimeoutError, match=r"the proxy CONNECT took longer than 0\.05 s"):
            async with transport:
                pass


async def test_a_tcp_connect_timeout_names_the_step(monkeypatch: pytest.MonkeyPatch) -> None:
    async def unanswered(*args: Any, **kwargs: Any) -> Any:
        await anyio.sleep_forever()

    monkeypatch.setattr(anyio, "connect_tcp", unanswered)
    with pytest.raises(TimeoutError) as raised:
        async with WebSocketTransport("ws://10.0.0.1:9/x", connect_timeout_s=0.05):
            pass
    assert str(raised.value) == (
        "ws://10.0.0.1:9/x: the TCP connect took longer than 0.05 s (connect_timeout_s)"
    )


# -- what the transport shows of its configuration -------------------------------------------


def test_the_transport_repr_and_errors_mask_the_url() -> None:
    transport = WebSocketTransport(
        f"wss://user:pa55word@gw.test/v1/realtime?api-key={TOKEN}&model=m",
        headers=[("Authorization", f"Bearer {KEY}")],
    )
    assert repr(transport) == (
        "WebSocketTransport('wss://<redacted>@gw.test/v1/realtime?api-key=<redacted>&model=m')"
    )
    with pytest.raises(ValueError, match="with a host") as raised:
        WebSocketTransport(f"wss:///v1/realtime?token={TOKEN}")
    assert TOKEN not in str(raised.value)


def test_the_transport_refuses_a_non_ascii_header_naming_it_not_its_value() -> None:
    with pytest.raises(ValueError, match=r"\['X-Gateway'\] must be printable ASCII") as raised:
        WebSocketTransport("wss://gw.test/", headers={"X-Gateway": TOKEN + "\u00e9"})
    assert TOKEN not in str(raised.value)


async def test_the_transport_redacts_the_credentials_it_sent_from_a_close_reason() -> None:
    async def handler(connection: WebSocketConnection) -> None:
        await connection.close(1008, f"refused {TOKEN} and user:pa55word")

    async with background() as group:
        ready = anyio.Event()
        ports: list[int] = []

        def on_ready(port: int) -> None:
            ports.append(port)
            ready.set()

        group.start_soon(partial(serve_websocket, handler, "127.0.0.1", 0, ready=on_ready))
        await ready.wait()
        address = f"ws://user:pa55word@127.0.0.1:{ports[0]}/"
        async with WebSocketTransport(address, headers={"X-Gateway-Token": TOKEN}) as transport:
            with pytest.raises(ConnectionClosed) as closed:
                await transport.receive()
            with pytest.raises(ConnectionClosed) as again:
                await transport.send("late")
    for error in (closed.value, again.value):
        assert error.reason == "refused <redacted> and <redacted>"
        assert TOKEN not in str(error)
