"""WebSocket over wsproto and anyio: the Realtime client transport, and a server for the fake.

Client: ``WebSocketTransport(url, headers=..., ssl_context=...)`` connects over TCP or TLS
(optionally through an HTTP ``CONNECT`` proxy), performs the opening handshake, and then
carries text frames: fragmented messages are joined, inbound messages are bounded
(``max_message_bytes``, 16 MiB by default: more is refused with close code 1009), pings are
answered, and the closing handshake is done properly. A refused handshake raises
``HandshakeError`` with the HTTP status and the error message of the body.

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
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import anyio
import anyio.abc
import h11
from anyio.streams.tls import TLSListener, TLSStream
from wsproto import ConnectionType, WSConnection
from wsproto import events as ws
from wsproto.connection import ConnectionState
from wsproto.utilities import RemoteProtocolError as WsRemoteProtocolError

from .auth import redact
from .base import ClosingOnExit, ConnectionClosed

__all__ = [
    "DEFAULT_MAX_MESSAGE_BYTES",
    "HandshakeError",
    "HttpHandler",
    "WebSocketConnection",
    "WebSocketTransport",
    "serve_websocket",
]

DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
"""The largest inbound message accepted (a Realtime event is far smaller)."""

_READ_SIZE = 65536
_log = logging.getLogger(__name__)
# Header names holding credentials (as ModelConfig's repr judges them).
_SECRET_HEADER_PARTS = ("authorization", "api-key", "apikey", "secret", "token", "cookie")
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


def _error_message(body: bytes) -> str:
    """The readable part of an error body (OpenAI sends ``{"error": {"message": ...}}``)."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:300] or "no details"
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            code = error.get("code")
            return f"{error['message']}" + (f" ({code})" if isinstance(code, str) else "")
        if isinstance(error, str):
            return error
    return text[:300]


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
    ) -> None:
        self._stream = stream
        self._ws = connection
        self._max = max_message_bytes
        self._send_lock = anyio.Lock()
        self._parts: list[str] = []
        self._size = 0
        self._closed: ConnectionClosed | None = None
        # Frames that came in the handshake's last read are already parsed: keep them.
        self._events: list[ws.Event] = list(self._ws.events())
        # One task reads the socket at a time: a receive() and a close() waiting for the
        # peer's close frame take turns. Once the peer's close frame (or the end of the
        # stream) has been read, there is nothing more to read.
        self._read_lock = anyio.Lock()
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
            raise ConnectionClosed(closing.code, closing.reason or "")
        await self._write(self._ws.send(ws.Message(data=text)))

    async def receive(self) -> str:
        while True:
            if self._closed is not None and not self._events:
                raise self._closed
            if not self._events:
                await self._read()
                continue
            event = self._events.pop(0)
            text = await self._on_event(event)
            if text is not None:
                return text

    async def _read(self) -> None:
        async with self._read_lock:
            if self._peer_done.is_set():  # a close() read the end while this task waited
                return
            data = await self._read_chunk()
            if data is None:
                self._closed = self._closed or ConnectionClosed(1006, "the connection dropped")
                return
            self._ws.receive_data(data)
            self._events.extend(self._ws.events())
            if self._ws.state is ConnectionState.CLOSED:  # the answer to our close frame
                self._peer_done.set()

    async def _read_chunk(self) -> bytes | None:
        """The next bytes from the socket (the read lock held), or None at its end."""
        try:
            return await self._stream.receive(_READ_SIZE)
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            self._peer_done.set()
            return None

    async def _on_event(self, event: ws.Event) -> str | None:
        if isinstance(event, ws.TextMessage):
            self._parts.append(event.data)
            self._size += len(event.data)
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
                self._closed = ConnectionClosed(event.code, event.reason or "")
                with contextlib.suppress(ConnectionClosed):  # the peer may be gone already
                    await self._write(self._ws.send(event.response()))
            await self._stream.aclose()
            raise self._closed
        return None

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


class WebSocketTransport(WebSocketConnection):
    """The client transport: ``async with WebSocketTransport(url, ...)`` connects."""

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
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(f"a WebSocket URL starts with ws:// or wss://, got {url!r}")
        self.url = url
        self._secure = parts.scheme == "wss"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._secure else 80)
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        items = headers.items() if isinstance(headers, Mapping) else headers
        self._headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in items]
        self._ssl = ssl_context
        self._proxy = proxy
        self._max_message = max_message_bytes
        self._connect_timeout = connect_timeout_s
        self._handshake_timeout = handshake_timeout_s
        self._closed = ConnectionClosed(None, "not connected yet: use `async with` first")
        self._events = []

    def __repr__(self) -> str:
        return f"WebSocketTransport({self.url!r})"  # never the headers: they hold the key

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if hasattr(self, "_stream"):  # before connecting there is nothing to close
            await super().close(code, reason)

    async def __aenter__(self) -> WebSocketTransport:
        with anyio.fail_after(self._connect_timeout):
            stream = await self._open_stream()
        connection = WSConnection(ConnectionType.CLIENT)
        host = self._host if self._port in (80, 443) else f"{self._host}:{self._port}"
        request = ws.Request(host=host, target=self._target, extra_headers=self._headers)
        try:
            with anyio.fail_after(self._handshake_timeout):
                await stream.send(connection.send(request))
                await self._handshake(stream, connection)
        except BaseException:
            await stream.aclose()
            raise
        WebSocketConnection.__init__(self, stream, connection, max_message_bytes=self._max_message)
        return self

    async def _open_stream(self) -> anyio.abc.ByteStream:
        if self._proxy:
            proxy = urlsplit(self._proxy if "://" in self._proxy else f"http://{self._proxy}")
            raw: anyio.abc.ByteStream = await anyio.connect_tcp(
                proxy.hostname or "localhost", proxy.port or 80
            )
            try:
                await _proxy_tunnel(raw, self._host, self._port)
            except BaseException:
                await raw.aclose()
                raise
            if not self._secure:
                return raw
            return await TLSStream.wrap(
                raw,
                server_side=False,
                hostname=self._host,
                ssl_context=self._ssl or ssl.create_default_context(),
                standard_compatible=False,
            )
        if self._secure:
            return await anyio.connect_tcp(
                self._host,
                self._port,
                tls=True,
                ssl_context=self._ssl or ssl.create_default_context(),
                tls_standard_compatible=False,
            )
        return await anyio.connect_tcp(self._host, self._port)

    def _secrets(self) -> list[str]:
        """The credentials among the handshake headers (a whole value, then its token)."""
        secrets: list[str] = []
        for name, value in self._headers:
            if any(part in name.decode("latin-1").lower() for part in _SECRET_HEADER_PARTS):
                text = value.decode("latin-1").strip()
                secrets.append(text)
                _scheme, _, token = text.partition(" ")
                secrets.append(token.strip())
        return secrets

    async def _handshake(self, stream: anyio.abc.ByteStream, connection: WSConnection) -> None:
        body = b""
        status = 0
        ended = False
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
                    if event.body_finished:
                        # A server may quote the credential it refused: never repeat it.
                        raise HandshakeError(status, redact(_error_message(body), *self._secrets()))
            if ended:
                raise HandshakeError(status or 502, "the server closed during the handshake")
            chunk = await _receive_some(stream)
            ended = not chunk  # once more round: a body may end with the connection
            try:
                connection.receive_data(chunk or None)
            except WsRemoteProtocolError:
                if ended:
                    raise HandshakeError(
                        status or 502, "the server closed during the handshake"
                    ) from None
                # Not a web server at all (a wrong port): a connection failure, not a refusal.
                raise ConnectionError(f"{self.url}: the server's answer is not HTTP") from None


HttpHandler = Callable[[h11.Request], Awaitable[tuple[int, Sequence[tuple[str, str]], bytes]]]
"""Answers a plain HTTP request (no body read) with ``(status, headers, body)``."""


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


async def serve_websocket(
    handler: Callable[[WebSocketConnection], Awaitable[None]],
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    ready: Callable[[int], None] | None = None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ssl_context: ssl.SSLContext | None = None,
    http_handler: HttpHandler | None = None,
) -> None:
    """Accept WebSocket connections on ``host:port`` until cancelled; ``ready(port)`` is
    called with the bound port (useful with ``port=0``). With a server ``ssl_context``
    (certificate loaded) the connections are TLS: clients connect with ``wss://``.
    ``http_handler`` answers the requests that are not upgrades (default: 400)."""
    tcp = await anyio.create_tcp_listener(local_host=host, local_port=port)
    bound = tcp.extra(anyio.abc.SocketAttribute.local_port)
    listener: anyio.abc.Listener[Any] = tcp
    if ssl_context is not None:
        listener = TLSListener(tcp, ssl_context, standard_compatible=False)
    if ready is not None:
        ready(bound)

    async def accept(stream: anyio.abc.ByteStream) -> None:
        connection = WSConnection(ConnectionType.SERVER)
        received = b""  # the request so far, for http_handler (h11 bounds its size)
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
                        answer = _BAD_REQUEST
                        if http_handler is not None:
                            answer = await _answer_http(received, http_handler)
                        await stream.send(answer)
                        await stream.aclose()
                        return
                    if requests:
                        await stream.send(connection.send(ws.AcceptConnection()))
                        break
        except (TimeoutError, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            await stream.aclose()
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
