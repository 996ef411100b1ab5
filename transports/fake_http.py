"""Serving the fake's speech endpoints (``protocol.fake.audio_api``) over HTTP/1.1 with h11.

``serve_fake`` hands every plain HTTP request that reaches its port (anything that is not a
WebSocket upgrade) to ``serve_http``: one connection, requests answered in turn (keep-alive),
bodies bounded (``max_request_bytes``: the API's 25 MiB upload limit and a margin), a
connection idle for ``idle_timeout_s`` closed. Streamed answers (speech) go out with chunked
transfer encoding, one chunk as soon as it is made.
"""

from __future__ import annotations

import anyio
import anyio.abc
import h11
from realtime_sansio.protocol.fake.audio_api import MAX_UPLOAD_BYTES, FakeAudioApi, FakeHttpResponse

__all__ = ["MAX_REQUEST_BYTES", "serve_http"]

MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + 1024 * 1024
"""The largest request body read: an upload at the API's limit, and its form fields."""


def _plain(status: int, message: str) -> FakeHttpResponse:
    return FakeHttpResponse(
        status=status, content_type="text/plain; charset=utf-8", chunks=(message.encode(),)
    )


async def serve_http(
    stream: anyio.abc.ByteStream,
    received: bytes,
    api: FakeAudioApi,
    *,
    idle_timeout_s: float = 10.0,
    max_request_bytes: int = MAX_REQUEST_BYTES,
) -> None:
    """Answer HTTP requests on ``stream`` (``received``: bytes already read from it) until
    the client closes, misbehaves, or stays idle too long."""
    connection = h11.Connection(h11.SERVER)
    connection.receive_data(received)
    try:
        while True:
            request = await _read_request(connection, stream, idle_timeout_s, max_request_bytes)
            if request is None:
                return
            method, target, headers, body, refusal = request
            response = refusal or api.handle(method, target, headers, body)
            await _respond(connection, stream, response)
            if refusal is not None or connection.our_state is not h11.DONE:
                return
            if connection.their_state is not h11.DONE:
                return
            connection.start_next_cycle()
    except (h11.ProtocolError, TimeoutError, anyio.BrokenResourceError, OSError):
        return
    finally:
        await anyio.aclose_forcefully(stream)


async def _read_request(
    connection: h11.Connection,
    stream: anyio.abc.ByteStream,
    idle_timeout_s: float,
    limit: int,
) -> tuple[str, str, dict[str, str], bytes, FakeHttpResponse | None] | None:
    method = target = ""
    headers: dict[str, str] = {}
    body = bytearray()
    while True:
        try:
            event = connection.next_event()
        except h11.RemoteProtocolError as exc:
            return method, target, headers, b"", _plain(400, f"Bad request: {exc}\n")
        if event is h11.NEED_DATA:
            with anyio.fail_after(idle_timeout_s):
                try:
                    data = await stream.receive(65536)
                except anyio.EndOfStream:
                    data = b""
            connection.receive_data(data)
        elif isinstance(event, h11.Request):
            method = event.method.decode("latin-1")
            target = event.target.decode("latin-1")
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in event.headers}
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > limit:
                return method, target, headers, b"", _plain(413, "Request body too large\n")
        elif isinstance(event, h11.EndOfMessage):
            return method, target, headers, bytes(body), None
        elif isinstance(event, h11.ConnectionClosed):
            return None


async def _respond(
    connection: h11.Connection, stream: anyio.abc.ByteStream, response: FakeHttpResponse
) -> None:
    headers = [("Content-Type", response.content_type), ("Server", "realtime-sansio-fake")]
    if not response.streamed:
        headers.append(("Content-Length", str(len(response.body))))
    if connection.their_state is not h11.DONE:
        headers.append(("Connection", "close"))  # a refused request's body is not read
    await stream.send(connection.send(h11.Response(status_code=response.status, headers=headers)))
    for chunk in response.chunks:
        if chunk:
            await stream.send(connection.send(h11.Data(data=chunk)))
    await stream.send(connection.send(h11.EndOfMessage()))
