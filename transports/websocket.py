"""WebSocket over wsproto and anyio: the Realtime client transport, and a server for the fake.

Client: ``WebSocketTransport(url, headers=..., ssl_context=...)`` connects over TCP or TLS
(optionally through an HTTP ``CONNECT`` proxy), performs the opening handshake, and then
carries text frames: fragmented messages are joined, inbound messages are bounded
(``max_message_bytes`` of UTF-8, 16 MiB by default: more is refused with close code 1009),
pings are answered, and the closing handshake is done properly. A refused handshake raises
``HandshakeError`` with the HTTP status and the error message of the body (read up to
``MAX_REFUSAL_BODY_BYTES``); a timeout names the URL and the step that took too long.

Secrets: the transport knows the credentials it sends (its headers, its URL's); its
``redactor`` hides them in the refusal's message and the peer's close reason, its repr and its
error texts show the URL masked (``protocol.config.credentials``), never the headers. The
driver adds the redactor to the Session, which applies it to every frame.

Server: ``serve_websocket(handler, host, port)`` accepts connections (``wss://`` with an
``ssl_context``) and hands each, once its handshake is done, to ``handler`` as a transport (its
``request`` is the upgrade request, headers included); a request that is not a WebSocket
upgrade gets 400, or the answer of ``http_handler`` when one is given (a page served beside
the socket); a handler that raises closes its connection with 1011. ``serve_fake``
(``transports.serve``) hosts the fake Realtime server with it. See docs/transports.md.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import ssl
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import anyio
import anyio.abc
import h11
from anyio.streams.tls import TLSListener, TLSStream
from realtime_sansio.protocol.config.credentials import mask_url
from realtime_sansio.protocol.config.run import header_problem, ws_url_problem
from wsproto import ConnectionType, WSConnection
from wsproto import events as ws
from wsproto.connection import ConnectionState
from wsproto.utilities import RemoteProtocolError as WsRemoteProtocolError

from ._wsframes import InboundFrames, masked_text_frame
from .auth import Redactor, connection_secrets
from .base import ClosingOnExit, ConnectionClosed

__all__ = [
    "DEFAULT_MAX_MESSAGE_BYTES",
    "MAX_REFUSAL_BODY_BYTES",
    "Handshake",
    "HandshakeError",
    "HttpHandler",
    "StreamHttpHandler",
    "WebSocketConnection",
    "WebSocketTransport",
    "answering",
    "serve_websocket",
]

DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
"""The largest inbound message accepted, in UTF-8 bytes (a Realtime event is far smaller)."""

MAX_REFUSAL_BODY_BYTES = 64 * 1024
"""How much of a refused handshake's body is read for its message; reading stops there (an
endless body must not cost endless memory or time)."""

# What one read takes: asyncio's transports read up to 256 KiB at a time, and anyio copies
# whatever a smaller read leaves over; so a burst is parsed whole, in one read.
_READ_SIZE = 262144
_log = logging.getLogger(__name__)
_BAD_REQUEST_BODY = b"This is a WebSocket endpoint: send an Upgrade request.\n"
_BAD_REQUEST = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(_BAD_REQUEST_BODY), _BAD_REQUEST_BODY)
)
_CLOSE_TIMEOUT_S = 5.0


class HandshakeError(Exception):
    """The server refused the WebSocket connection (``status`` 401, 403, 404, 429 ...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"the server refused the connection: HTTP {status}: {message}")
        self.status = status
        self.message = message


def _error_message(body: bytes | bytearray, redact: Callable[[str], str]) -> str:
    """The readable part of an error body (OpenAI sends ``{"error": {"message": ...}}``),
    redacted: a server may quote the credential it refused."""
    # Redacted whole before anything is cut, so no piece of a secret survives a cut.
    text = redact(body.decode("utf-8", "replace").strip())
    try:
        data = json.loads(text)
    except ValueError:
        return text[:300] or "no details"
    message = text[:300]
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            code = error.get("code")
            message = f"{error['message']}" + (f" ({code})" if isinstance(code, str) else "")
        elif isinstance(error, str):
            message = error
    return redact(message)  # once more: JSON escapes are decoded now


class WebSocketConnection(ClosingOnExit):
    """An open WebSocket (either side) carrying text frames; implements ``Transport``."""

    request: ws.Request | None = None
    """On the server side, the client's upgrade request (its headers, for an origin check)."""

    def __init__(
        self,
        stream: anyio.abc.ByteStream,
        connection: WSConnection,
        *,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self._stream = stream
        self._ws = connection
        self._max = max_message_bytes
        self._redact = redact
        # Uncontended, these locks take no trip through the scheduler: the socket's own
        # send and receive are the checkpoints.
        self._send_lock = anyio.Lock(fast_acquire=True)
        self._parts: list[str] = []
        self._size = 0
        self._closed: ConnectionClosed | None = None
        # Frames that came in the handshake's last read are already parsed: keep them.
        # Texts (str) come from the fast path (_wsframes), events from wsproto, in order.
        self._events: deque[ws.Event | str] = deque(self._ws.events())
        self._inbound = InboundFrames(connection, max_message_bytes)
        # One task reads the socket at a time: a receive() and a close() waiting for the
        # peer's close frame take turns. Once the peer's close frame (or the end of the
        # stream) has been read, there is nothing more to read.
        self._read_lock = anyio.Lock(fast_acquire=True)
        self._deferred: ConnectionClosed | None = None  # receive_many's, for its next call
        # A client masks its frames; ours offers no extension, so none shapes the frames.
        self._masks = connection.client and not _extensions(connection)
        self._peer_done = anyio.Event()
        self._close_done: anyio.Event | None = None

    async def _write(self, data: bytes) -> None:
        async with self._send_lock:
            try:
                await self._stream.send(data)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                self._closed = self._closed or ConnectionClosed(1006, "the connection dropped")
                raise self._closed from None

    async def send(self, text: str) -> None:
        if self._closed is not None:
            raise self._closed
        if self._ws.state is not ConnectionState.OPEN:
            # The peer's close frame has been read, not yet handled by receive(): the
            # connection is over all the same.
            closing = next((e for e in self._events if isinstance(e, ws.CloseConnection)), None)
            if closing is None:
                raise ConnectionClosed(1006, "the connection dropped")
            raise self._peer_closed(closing)
        await self._write(self._frame(text))

    async def send_many(self, texts: Sequence[str]) -> None:
        """Send text frames in order, in one write to the socket."""
        if not texts:
            return
        if self._closed is not None or self._ws.state is not ConnectionState.OPEN:
            await self.send(texts[0])  # raises, as send() does on a closed connection
        frame = self._frame
        await self._write(b"".join([frame(text) for text in texts]))

    def _frame(self, text: str) -> bytes:
        """The bytes of one text message (the connection is open)."""
        if self._masks:
            return masked_text_frame(text, os.urandom(4))
        return self._ws.send(ws.Message(data=text))

    async def receive(self) -> str:
        while True:
            if self._closed is not None and not self._events:
                raise self._closed
            if not self._events:
                await self._read()
                continue
            event = self._events.popleft()
            text = await self._on_event(event)
            if text is not None:
                return text

    async def receive_many(self, limit: int) -> list[str]:
        """The text frames already received, at least one (waiting for it), at most ``limit``.

        An end of the connection behind them is raised by the next call, so that none of
        the frames that came before it is lost."""
        if self._deferred is not None:
            deferred, self._deferred = self._deferred, None
            raise deferred
        texts: list[str] = []
        events = self._events
        while len(texts) < limit:
            if not events:
                if texts:
                    break
                if self._closed is not None:
                    raise self._closed
                await self._read()
                continue
            event = events.popleft()
            if type(event) is str:  # a whole text frame (_wsframes): the common case
                texts.append(event)
                continue
            if texts and isinstance(event, ws.CloseConnection):
                events.appendleft(event)
                break  # the frames first; the close on the next call
            try:
                text = await self._on_event(event)
            except ConnectionClosed as closed:
                if not texts:
                    raise
                self._deferred = closed  # a message over the bound: said on the next call
                break
            if text is not None:
                texts.append(text)
        return texts

    async def _read(self) -> None:
        async with self._read_lock:
            if self._peer_done.is_set():  # a close() read the end while this task waited
                return
            data = await self._read_chunk()
            if data is None:
                self._closed = self._closed or ConnectionClosed(1006, "the connection dropped")
                return
            self._inbound.feed(data, self._events)
            if self._ws.state is ConnectionState.CLOSED:  # the answer to our close frame
                self._peer_done.set()

    async def _read_chunk(self) -> bytes | None:
        """The next bytes from the socket (the read lock held), or None at its end."""
        try:
            return await self._stream.receive(_READ_SIZE)
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            self._peer_done.set()
            return None

    async def _on_event(self, event: ws.Event | str) -> str | None:
        if type(event) is str:
            return event  # a whole text frame, checked against the bound (_wsframes)
        if (
            type(event) is ws.TextMessage
            and event.message_finished
            and not self._parts
            and event.data.isascii()
            and len(event.data) <= self._max
        ):
            return event.data  # the common case, a whole message in one frame: nothing to join
        if isinstance(event, ws.TextMessage):
            data = event.data
            self._parts.append(data)
            # The bound is in bytes; isascii() is O(1), so only other text is encoded to count.
            self._size += len(data) if data.isascii() else len(data.encode("utf-8"))
            if self._size > self._max:
                await self.close(1009, f"message over {self._max} bytes")
                raise ConnectionClosed(1009, f"an inbound message exceeded {self._max} bytes")
            if not event.message_finished:
                return None
            text, self._parts, self._size = "".join(self._parts), [], 0
            return text
        if isinstance(event, ws.BytesMessage):
            return None  # the Realtime protocol is text; a binary frame carries nothing for us
        if isinstance(event, ws.Ping):
            if self._ws.state is ConnectionState.OPEN:  # no pong after a close frame
                await self._write(self._ws.send(event.response()))
            return None
        if isinstance(event, ws.CloseConnection):
            self._peer_done.set()
            if self._closed is None:
                self._closed = self._peer_closed(event)
                with contextlib.suppress(ConnectionClosed):  # the peer may be gone already
                    await self._write(self._ws.send(event.response()))
            await self._stream.aclose()
            raise self._closed
        return None

    def _peer_closed(self, event: ws.CloseConnection) -> ConnectionClosed:
        """The peer's close, its reason (the peer's words) redacted."""
        reason = event.reason or ""
        return ConnectionClosed(event.code, self._redact(reason) if self._redact else reason)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """The closing handshake: send a close frame, wait a little for the peer's.

        Safe while another task waits in ``receive`` (they take turns reading the socket),
        and idempotent: a second call waits for the first one's handshake to end."""
        if self._close_done is not None:
            await self._close_done.wait()
            return
        done = self._close_done = anyio.Event()
        try:
            if self._closed is None:
                self._closed = ConnectionClosed(code, reason)
                # Codes that must never be sent in a close frame describe an abrupt end, so
                # that is what the peer gets (a fault injection's dropped connection).
                if code not in (1005, 1006, 1015):
                    await self._closing_handshake(code, reason)
        finally:
            with anyio.CancelScope(shield=True):
                await self._stream.aclose()
            done.set()

    async def _closing_handshake(self, code: int, reason: str) -> None:
        try:
            await self._write(self._ws.send(ws.CloseConnection(code=code, reason=reason)))
        except ConnectionClosed:
            return
        if self._ws.state is ConnectionState.CLOSED:  # that answered the peer's close frame
            self._peer_done.set()
        # wsproto reads the rest itself: first what waits for a frame's end (_wsframes).
        self._inbound.flush(self._events)
        with anyio.move_on_after(_CLOSE_TIMEOUT_S):
            while not self._peer_done.is_set():  # until the peer's close frame or the end
                async with self._read_lock:  # a receive() in progress reads first
                    if self._peer_done.is_set():
                        break
                    data = await self._read_chunk()
                    if data is None:
                        break
                    self._ws.receive_data(data)
                    if any(isinstance(e, ws.CloseConnection) for e in self._ws.events()):
                        self._peer_done.set()


def _extensions(connection: WSConnection) -> list[Any]:
    """The extensions in use on an open connection (none, unless the peer's handshake
    negotiated some), or a stand-in that says there may be some."""
    inner = getattr(connection, "connection", None)
    proto = getattr(inner, "_proto", None)
    return list(getattr(proto, "extensions", [None]))


async def _receive_some(stream: anyio.abc.ByteStream) -> bytes:
    try:
        return await stream.receive(_READ_SIZE)
    except anyio.EndOfStream:
        return b""


async def _proxy_tunnel(stream: anyio.abc.ByteStream, host: str, port: int) -> bytes:
    """An HTTP ``CONNECT`` through the proxy ``stream`` is connected to; h11 reads the reply."""
    client = h11.Connection(h11.CLIENT)
    target = f"{host}:{port}"
    request = h11.Request(method="CONNECT", target=target, headers=[("Host", target)])
    await stream.send(client.send(request))
    while True:
        event = client.next_event()
        if event is h11.NEED_DATA:
            client.receive_data(await _receive_some(stream))
            continue
        if isinstance(event, h11.Response):
            if not 200 <= event.status_code < 300:
                raise HandshakeError(event.status_code, f"the proxy refused CONNECT {target}")
            return bytes(client.trailing_data[0])
        if isinstance(event, h11.ConnectionClosed):
            raise HandshakeError(502, "the proxy closed the connection")


async def _close_quietly(stream: anyio.abc.AsyncResource) -> None:
    """Release a stream even from a cancelled scope (a timeout)."""
    with anyio.CancelScope(shield=True):
        await stream.aclose()


def _status_line(answer: bytes) -> bytes | None:
    """The status code of an HTTP answer's first line (``b"101"``), or None if not HTTP."""
    if not answer.startswith(b"HTTP/"):
        return None
    fields = answer.split(b"\r\n", 1)[0].split(b" ", 2)
    return fields[1] if len(fields) > 1 else None


class WebSocketTransport(WebSocketConnection):
    """The client transport: ``async with WebSocketTransport(url, ...)`` connects.

    ``redactor`` hides the credentials it sends (secret headers, the URL's credentials):
    the driver applies it to everything the server says."""

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        ssl_context: ssl.SSLContext | None = None,
        proxy: str | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        connect_timeout_s: float = 10.0,
        handshake_timeout_s: float = 10.0,
    ) -> None:
        problem = ws_url_problem(url) if isinstance(url, str) else "a ws:// or wss:// URL"
        if problem is not None:
            shown = mask_url(url) if isinstance(url, str) else url
            raise ValueError(f"WebSocketTransport needs {problem}, got {shown!r}")
        items = list(headers.items() if isinstance(headers, Mapping) else headers)
        for name, value in items:
            problem = header_problem(name, value, owner="WebSocketTransport headers")
            if problem is not None:
                raise ValueError(problem)
        parts = urlsplit(url)
        self.url = url
        self.redactor = Redactor(*connection_secrets(url, items))
        self._where = mask_url(url)  # how errors name the URL
        self._secure = parts.scheme.lower() == "wss"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._secure else 80)
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = [(name.encode("ascii"), value.encode("ascii")) for name, value in items]
        self._ssl = ssl_context
        self._proxy = proxy
        self._max_message = max_message_bytes
        self._connect_timeout = connect_timeout_s
        self._handshake_timeout = handshake_timeout_s
        self._step = "TCP connect"  # what connecting is doing, for a timeout's message
        self._closed = ConnectionClosed(None, "not connected yet: use `async with` first")
        self._events = deque()
        self._deferred = None

    def __repr__(self) -> str:
        return f"WebSocketTransport({self._where!r})"  # never the headers: they hold the key

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if hasattr(self, "_stream"):  # before connecting there is nothing to close
            await super().close(code, reason)

    def _timed_out(self, seconds: float, option: str) -> TimeoutError:
        return TimeoutError(
            f"{self._where}: the {self._step} took longer than {seconds:g} s ({option})"
        )

    async def __aenter__(self) -> WebSocketTransport:
        with anyio.move_on_after(self._connect_timeout) as connecting:
            stream = await self._open_stream()
        if connecting.cancelled_caught:
            raise self._timed_out(self._connect_timeout, "connect_timeout_s")
        connection = WSConnection(ConnectionType.CLIENT)
        host = self._host if self._port in (80, 443) else f"{self._host}:{self._port}"
        request = ws.Request(host=host, target=self._target, extra_headers=self._headers)
        self._step = "WebSocket handshake"
        try:
            with anyio.move_on_after(self._handshake_timeout) as handshaking:
                await stream.send(connection.send(request))
                await self._handshake(stream, connection)
        except BaseException:
            await _close_quietly(stream)
            raise
        if handshaking.cancelled_caught:
            await _close_quietly(stream)
            raise self._timed_out(self._handshake_timeout, "handshake_timeout_s")
        WebSocketConnection.__init__(
            self, stream, connection, max_message_bytes=self._max_message, redact=self.redactor
        )
        return self

    async def _open_stream(self) -> anyio.abc.ByteStream:
        raw: anyio.abc.ByteStream
        if self._proxy:
            proxy = urlsplit(self._proxy if "://" in self._proxy else f"http://{self._proxy}")
            self._step = "TCP connect to the proxy"
            raw = await anyio.connect_tcp(proxy.hostname or "localhost", proxy.port or 80)
            self._step = "proxy CONNECT"
            try:
                await _proxy_tunnel(raw, self._host, self._port)
            except BaseException:
                await _close_quietly(raw)
                raise
        else:
            self._step = "TCP connect"
            raw = await anyio.connect_tcp(self._host, self._port)
        if not self._secure:
            return raw
        self._step = "TLS handshake"
        try:
            return await TLSStream.wrap(
                raw,
                server_side=False,
                hostname=self._host,
                ssl_context=self._ssl or ssl.create_default_context(),
                standard_compatible=False,
            )
        except BaseException:
            await _close_quietly(raw)
            raise

    async def _handshake(self, stream: anyio.abc.ByteStream, connection: WSConnection) -> None:
        body = bytearray()  # appended in place: linear in the body's size, and bounded
        status = 0
        ended = False
        first = b""  # the answer's first bytes, to tell a bad upgrade from a non-HTTP answer
        while True:
            for event in connection.events():
                if isinstance(event, ws.AcceptConnection):
                    return
                if isinstance(event, ws.RejectConnection):
                    status = event.status_code
                    if not event.has_body:
                        raise HandshakeError(status, "no details")
                elif isinstance(event, ws.RejectData):
                    body += event.data
                    if event.body_finished or len(body) >= MAX_REFUSAL_BODY_BYTES:
                        # Past the bound the rest is not read: the message is in the start.
                        del body[MAX_REFUSAL_BODY_BYTES:]
                        raise HandshakeError(status, _error_message(body, self.redactor))
            if ended:
                raise HandshakeError(status or 502, "the server closed during the handshake")
            chunk = await _receive_some(stream)
            if len(first) < 64:
                first += chunk
            ended = not chunk  # once more round: a body may end with the connection
            try:
                connection.receive_data(chunk or None)
            except WsRemoteProtocolError as exc:
                if ended:
                    raise HandshakeError(
                        status or 502, "the server closed during the handshake"
                    ) from None
                raise ConnectionError(self._broken_answer(first, exc)) from None

    def _broken_answer(self, first: bytes, exc: WsRemoteProtocolError) -> str:
        """Why an answer could not open the WebSocket. A ConnectionError, not a HandshakeError:
        nothing was refused (no status to act on); what answered is no working WebSocket
        server (a wrong port, or a proxy that mangles the upgrade)."""
        if _status_line(first) != b"101":
            return f"{self._where}: the server's answer is not HTTP"
        if "accept" in str(exc).lower():
            return (
                f"{self._where}: the server's Sec-WebSocket-Accept was wrong (not the hash of"
                " our Sec-WebSocket-Key): it, or a proxy in between, does not speak WebSocket"
                " correctly"
            )
        return (
            f"{self._where}: the server's WebSocket upgrade is invalid: {self.redactor(str(exc))}"
        )


StreamHttpHandler = Callable[[anyio.abc.ByteStream, bytes], Awaitable[None]]
"""Takes over a connection whose first request is plain HTTP: the stream, and the bytes read
from it so far (the request's head at least). It answers, and closes the stream."""

HttpHandler = Callable[[h11.Request], Awaitable[tuple[int, Sequence[tuple[str, str]], bytes]]]
"""Answers a plain HTTP request (no body read) with ``(status, headers, body)``."""


def answering(http_handler: HttpHandler) -> StreamHttpHandler:
    """A ``StreamHttpHandler`` that answers one request with ``http_handler`` and closes (for
    small whole bodies, such as a page's static files)."""

    async def serve(stream: anyio.abc.ByteStream, received: bytes) -> None:
        try:
            await stream.send(await _answer_http(received, http_handler))
        finally:
            await stream.aclose()

    return serve


async def _answer_http(data: bytes, http_handler: HttpHandler) -> bytes:
    """The bytes answering the request in ``data`` (Content-Length and close added)."""
    connection = h11.Connection(h11.SERVER)
    connection.receive_data(data)
    try:
        request = connection.next_event()
    except h11.RemoteProtocolError:
        return _BAD_REQUEST
    if not isinstance(request, h11.Request):
        return _BAD_REQUEST
    try:
        status, headers, body = await http_handler(request)
    except Exception:  # one request's failure is not the server's
        _log.exception("the HTTP handler failed")
        status, headers, body = 500, [("Content-Type", "text/plain")], b"Internal Server Error\n"
    framing = [("Content-Length", str(len(body))), ("Connection", "close")]
    try:
        reason = HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        reason = b""
    response = h11.Response(status_code=status, headers=[*headers, *framing], reason=reason)
    answer = connection.send(response)
    if request.method != b"HEAD":
        answer += connection.send(h11.Data(data=body))
    return answer + connection.send(h11.EndOfMessage())


Handshake = Callable[[ws.Request], ws.AcceptConnection | tuple[int, bytes]]
"""Answers an upgrade request: accept it, or refuse it with ``(status, JSON body)``."""


async def _refuse(
    stream: anyio.abc.ByteStream, connection: WSConnection, status: int, body: bytes
) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    refusal = ws.RejectConnection(status_code=status, headers=headers, has_body=True)
    await stream.send(connection.send(refusal) + connection.send(ws.RejectData(data=body)))
    await stream.aclose()


async def serve_websocket(
    handler: Callable[[WebSocketConnection], Awaitable[None]],
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    ready: Callable[[int], None] | None = None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ssl_context: ssl.SSLContext | None = None,
    http_handler: StreamHttpHandler | None = None,
    handshake: Handshake | None = None,
) -> None:
    """Accept WebSocket connections on ``host:port`` until cancelled; ``ready(port)`` is
    called with the bound port (useful with ``port=0``). With a server ``ssl_context``
    (certificate loaded) the connections are TLS: clients connect with ``wss://``. A plain
    HTTP request goes to ``http_handler(stream, bytes read so far)`` when one is given (the
    fake's speech endpoints share the port; ``answering`` adapts a handler of one request), else
    it gets 400. ``handshake`` answers each upgrade request: an ``AcceptConnection`` (naming a
    subprotocol, say), or ``(status, JSON body)`` to refuse it; by default every one is
    accepted."""
    tcp = await anyio.create_tcp_listener(local_host=host, local_port=port)
    bound = tcp.extra(anyio.abc.SocketAttribute.local_port)
    listener: anyio.abc.Listener[Any] = tcp
    if ssl_context is not None:
        listener = TLSListener(tcp, ssl_context, standard_compatible=False)
    if ready is not None:
        ready(bound)

    async def accept(stream: anyio.abc.ByteStream) -> None:
        connection = WSConnection(ConnectionType.SERVER)
        received = bytearray()
        plain_http = False
        try:
            with anyio.fail_after(10):
                while True:
                    chunk = await _receive_some(stream)
                    if not chunk:
                        await stream.aclose()
                        return
                    received += chunk
                    try:
                        connection.receive_data(chunk)
                        requests = [e for e in connection.events() if isinstance(e, ws.Request)]
                    except WsRemoteProtocolError:  # a browser, curl, TLS to a ws:// port...
                        if http_handler is not None:
                            plain_http = True
                            break
                        await stream.send(_BAD_REQUEST)
                        await stream.aclose()
                        return
                    if requests:
                        answer = (
                            ws.AcceptConnection() if handshake is None else handshake(requests[0])
                        )
                        if not isinstance(answer, ws.AcceptConnection):
                            await _refuse(stream, connection, *answer)
                            return
                        await stream.send(connection.send(answer))
                        break
        except (TimeoutError, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            await stream.aclose()
            return
        if plain_http and http_handler is not None:
            await http_handler(stream, bytes(received))
            return
        socket = WebSocketConnection(stream, connection, max_message_bytes=max_message_bytes)
        socket.request = requests[0]
        try:
            await handler(socket)
        except ConnectionClosed:
            pass  # the client went away: so did the handler's business
        except Exception:  # one connection's failure is not the server's: log it, go on
            _log.exception("the WebSocket handler failed")
            await socket.close(1011, "internal server error")
        finally:
            await socket.close(1000, "")

    async with listener:
        await listener.serve(accept)
