"""A small HTTP/1.1 client over h11 and anyio, for the REST calls next to Realtime.

Realtime needs a couple of plain HTTPS requests besides its WebSocket: minting an ephemeral
client secret for a browser or a device (``POST /v1/realtime/client_secrets``), and the
voice pipeline's speech-to-text (a ``multipart_form`` upload) and text-to-speech (a body read
as it streams: ``stream``). One request per connection, bodies bounded (``max_body_bytes``),
the same trust roots and proxy rules as the WebSocket, and the key never in an error.
"""

from __future__ import annotations

import contextlib
import json
import os
import ssl
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import anyio
import anyio.abc
import attrs
import h11
from anyio.streams.tls import TLSStream

from .auth import ApiKeyError, redact, resolve_api_key, ssl_context_from_env
from .connect import USER_AGENT

__all__ = [
    "DEFAULT_API_BASE",
    "HttpError",
    "HttpResponse",
    "StreamedResponse",
    "error_message",
    "mint_client_secret",
    "multipart_form",
    "request",
    "stream",
]

DEFAULT_API_BASE = "https://api.openai.com"
MAX_BODY_BYTES = 16 * 1024 * 1024


class HttpError(Exception):
    """An HTTP request failed (``status`` 0 when no response came), with a readable message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}" if status else message)
        self.status = status
        self.message = message


@attrs.frozen(kw_only=True)
class HttpResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise HttpError(self.status, f"the response is not JSON: {exc}") from None


async def _open(
    host: str, port: int, secure: bool, context: ssl.SSLContext | None, proxy: str | None
) -> anyio.abc.ByteStream:
    if proxy and secure:
        from .websocket import _proxy_tunnel  # the same CONNECT as the WebSocket's

        parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        raw: anyio.abc.ByteStream = await anyio.connect_tcp(
            parts.hostname or "localhost", parts.port or 80
        )
        await _proxy_tunnel(raw, host, port)
        return await TLSStream.wrap(
            raw,
            server_side=False,
            hostname=host,
            ssl_context=context or ssl.create_default_context(),
            standard_compatible=False,
        )
    if secure:
        return await anyio.connect_tcp(
            host,
            port,
            tls=True,
            ssl_context=context or ssl.create_default_context(),
            tls_standard_compatible=False,
        )
    return await anyio.connect_tcp(host, port)


def _target(url: str) -> tuple[str, int, bool, str, str]:
    """``(host, port, secure, target, Host header)`` of an http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"an HTTP URL starts with http:// or https://, got {url!r}")
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    return parts.hostname, port, secure, target, host_header


class StreamedResponse:
    """A response whose body is read as it arrives: ``async for chunk in response.iter_bytes()``
    (each read waits at most ``timeout_s``; the whole body is bounded by ``max_body_bytes``)."""

    def __init__(
        self,
        status: int,
        headers: tuple[tuple[str, str], ...],
        connection: h11.Connection,
        byte_stream: anyio.abc.ByteStream,
        *,
        timeout_s: float,
        limit: int,
    ) -> None:
        self.status = status
        self.headers = headers
        self._connection = connection
        self._stream = byte_stream
        self._timeout_s = timeout_s
        self._limit = limit
        self._size = 0

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        while True:
            event = self._connection.next_event()
            if event is h11.NEED_DATA:
                self._connection.receive_data(await _receive(self._stream, self._timeout_s))
            elif isinstance(event, h11.Data):
                self._size += len(event.data)
                if self._size > self._limit:
                    raise HttpError(self.status, f"the response body exceeds {self._limit} bytes")
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                return

    async def read(self) -> bytes:
        """The whole (rest of the) body."""
        return b"".join([chunk async for chunk in self.iter_bytes()])


async def _receive(byte_stream: anyio.abc.ByteStream, timeout_s: float) -> bytes:
    with anyio.fail_after(timeout_s):
        try:
            return await byte_stream.receive(65536)
        except anyio.EndOfStream:
            return b""


@contextlib.asynccontextmanager
async def stream(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    timeout_s: float = 30.0,
    max_body_bytes: int = MAX_BODY_BYTES,
    environ: Mapping[str, str] | None = None,
) -> AsyncIterator[StreamedResponse]:
    """One HTTP/1.1 request whose response body is streamed: ``async with stream(...) as
    response``. Connecting, sending and the response's head take at most ``timeout_s``, and
    so does each read of the body (a ``TimeoutError`` then). Failures to connect, and an
    answer that never came, are ``HttpError``s."""
    env = os.environ if environ is None else environ
    host, port, secure, target, host_header = _target(url)
    sent_headers = [
        ("Host", host_header),
        ("User-Agent", USER_AGENT),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
        *(headers or {}).items(),
    ]
    context = ssl_context_from_env(env) if secure else None
    proxy = (env.get("https_proxy") or env.get("HTTPS_PROXY") or "").strip() or None
    try:
        with anyio.fail_after(timeout_s):
            byte_stream = await _open(host, port, secure, context, proxy)
            try:
                response = await _send_and_read_head(
                    byte_stream,
                    method=method,
                    target=target,
                    headers=sent_headers,
                    body=body,
                    timeout_s=timeout_s,
                    limit=max_body_bytes,
                )
            except BaseException:
                await anyio.aclose_forcefully(byte_stream)
                raise
    except TimeoutError:
        raise HttpError(0, f"no response from {host} within {timeout_s} s") from None
    except OSError as exc:
        raise HttpError(0, f"cannot reach {host}:{port}: {exc}") from None
    except h11.RemoteProtocolError as exc:
        raise HttpError(0, f"{host}:{port} did not answer in HTTP/1.1: {exc}") from None
    async with byte_stream:
        yield response


async def _send_and_read_head(
    byte_stream: anyio.abc.ByteStream,
    *,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    timeout_s: float,
    limit: int,
) -> StreamedResponse:
    connection = h11.Connection(h11.CLIENT)
    request_head = h11.Request(method=method, target=target, headers=headers)
    await byte_stream.send(connection.send(request_head))
    if body:
        await byte_stream.send(connection.send(h11.Data(data=body)))
    await byte_stream.send(connection.send(h11.EndOfMessage()))
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            data = await _receive(byte_stream, timeout_s)
            if not data:
                # Told to h11, the end would read as a protocol error ("can't handle event
                # type ConnectionClosed"): the server simply gave no answer.
                raise OSError("the connection closed before an answer")
            connection.receive_data(data)
        elif isinstance(event, h11.Response):
            got = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers)
            return StreamedResponse(
                event.status_code, got, connection, byte_stream, timeout_s=timeout_s, limit=limit
            )


async def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    timeout_s: float = 30.0,
    max_body_bytes: int = MAX_BODY_BYTES,
    environ: Mapping[str, str] | None = None,
) -> HttpResponse:
    """One HTTP/1.1 request; the whole response (bounded) once it has arrived."""
    host = _target(url)[0]
    try:
        with anyio.fail_after(timeout_s):
            async with stream(
                method,
                url,
                headers=headers,
                body=body,
                timeout_s=timeout_s,
                max_body_bytes=max_body_bytes,
                environ=environ,
            ) as response:
                data = await response.read()
    except TimeoutError:
        raise HttpError(0, f"no response from {host} within {timeout_s} s") from None
    except OSError as exc:
        raise HttpError(0, f"the connection to {host} failed: {exc}") from None
    return HttpResponse(status=response.status, headers=response.headers, body=data)


def multipart_form(
    fields: Mapping[str, str], files: Sequence[tuple[str, str, str, bytes]], boundary: str
) -> tuple[str, bytes]:
    """A ``multipart/form-data`` body: ``(Content-Type header, body)``. ``files`` are
    ``(field name, file name, content type, data)``; ``boundary`` must not occur in them."""
    parts: list[bytes] = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'
        parts.append(head.encode() + value.encode("utf-8") + b"\r\n")
    for name, filename, content_type, data in files:
        head = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{_quote(name)}"; filename="{_quote(filename)}"'
            f"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


def _quote(value: str) -> str:
    # A quote or a line break would end the parameter early: percent-encode, as browsers do.
    return value.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


def error_message(body: bytes, status: int) -> str:
    """The readable part of an OpenAI error body (``{"error": {"message": ...}}``)."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip()[:300] or f"HTTP {status}, no details"
    error = data.get("error") if isinstance(data, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return str(message or data)[:1000]


async def mint_client_secret(
    *,
    api_key: str | None = None,
    session: Mapping[str, Any] | None = None,
    expires_after_s: int | None = None,
    base_url: str = DEFAULT_API_BASE,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An ephemeral client secret for a browser or device client
    (``POST /v1/realtime/client_secrets``): the API's JSON answer, whose ``value`` is the
    secret (``ek_...``) and ``expires_at`` its end. ``session`` is the GA session to bind."""
    key = resolve_api_key(api_key, environ=environ)
    if key is None:
        raise ApiKeyError("no API key to mint a client secret with")
    payload: dict[str, Any] = {"session": dict(session or {"type": "realtime"})}
    if expires_after_s is not None:
        payload["expires_after"] = {"anchor": "created_at", "seconds": expires_after_s}
    response = await request(
        "POST",
        base_url.rstrip("/") + "/v1/realtime/client_secrets",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        body=json.dumps(payload).encode(),
        environ=environ,
    )
    data = response.json()
    if response.status != 200:
        error = data.get("error") if isinstance(data, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        raise HttpError(response.status, redact(str(message or data), key))
    if not isinstance(data, dict) or not isinstance(data.get("value"), str):
        raise HttpError(response.status, "the answer carries no client secret")
    return data
