"""A small HTTP/1.1 client over h11 and anyio, for the REST calls next to Realtime.

Realtime needs a couple of plain HTTPS requests besides its WebSocket: minting an ephemeral
client secret for a browser or a device (``POST /v1/realtime/client_secrets``), and later the
voice pipeline's speech-to-text and text-to-speech. One request per connection, bodies bounded
(``max_body_bytes``), the same trust roots and proxy rules as the WebSocket, and the key never
in an error.
"""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Mapping
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
    "mint_client_secret",
    "request",
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
    env = os.environ if environ is None else environ
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"an HTTP URL starts with http:// or https://, got {url!r}")
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
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
            stream = await _open(parts.hostname, port, secure, context, proxy)
            async with stream:
                return await _exchange(
                    stream, method, target, headers=sent_headers, body=body, limit=max_body_bytes
                )
    except TimeoutError:
        raise HttpError(0, f"no response from {parts.hostname} within {timeout_s} s") from None
    except OSError as exc:
        raise HttpError(0, f"cannot reach {parts.hostname}:{port}: {exc}") from None


async def _exchange(
    stream: anyio.abc.ByteStream,
    method: str,
    target: str,
    *,
    headers: list[tuple[str, str]],
    body: bytes,
    limit: int,
) -> HttpResponse:
    connection = h11.Connection(h11.CLIENT)
    await stream.send(connection.send(h11.Request(method=method, target=target, headers=headers)))
    if body:
        await stream.send(connection.send(h11.Data(data=body)))
    await stream.send(connection.send(h11.EndOfMessage()))
    status = 0
    got: list[tuple[str, str]] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            try:
                data = await stream.receive(65536)
            except anyio.EndOfStream:
                data = b""
            connection.receive_data(data)
        elif isinstance(event, h11.Response):
            status = event.status_code
            got = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers]
        elif isinstance(event, h11.Data):
            size += len(event.data)
            if size > limit:
                raise HttpError(status, f"the response body exceeds {limit} bytes")
            chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            return HttpResponse(status=status, headers=tuple(got), body=b"".join(chunks))


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
