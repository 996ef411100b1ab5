"""``serve_fake``: the fake Realtime server behind a real WebSocket, for any client.

Each connection gets a fresh ``FakeRealtimeServer`` (``FakeServers``: the same config, the
script for its first ``script.connections`` connections, ids that never repeat across
connections, so a client can reconnect; the model of its URL's ``?model=``), hosted by
``hosting.host_connection``. Point the official ``openai`` package at it with
``AsyncOpenAI(websocket_base_url="ws://127.0.0.1:8765/v1", api_key="unused")``, or this
library with ``ModelConfig(url="ws://127.0.0.1:8765")``.
Without a config it is timed like the real server (``FakeServerConfig.realistic()``). The
handshake is the real API's (``protocol.fake.handshake``): the ``realtime`` subprotocol, the
key in a subprotocol for browsers, and with ``require_key`` a 401 with the API's body for a
missing or wrong key.

Plain HTTP requests on the same port reach the fake's speech endpoints
(``/v1/audio/transcriptions``, ``/v1/audio/speech``, served by ``fake_http``), one
``FakeAudioApi`` for the whole server (by default transcribing with ``config.transcripts``):
``AsyncOpenAI(base_url="http://127.0.0.1:8765/v1", api_key="unused")``.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable

import anyio
import wsproto.events as ws
from realtime_sansio.protocol.fake import FakeScript, FakeServerConfig, FakeServers
from realtime_sansio.protocol.fake.audio_api import FakeAudioApi
from realtime_sansio.protocol.fake.handshake import Refused, answer_handshake, query_value

from .fake_http import serve_http
from .hosting import host_connection
from .recording import RecordingTransport, recording_name
from .websocket import WebSocketConnection, serve_websocket

__all__ = ["serve_fake"]


async def serve_fake(
    host: str = "127.0.0.1",
    port: int = 8765,
    script: FakeScript | None = None,
    *,
    config: FakeServerConfig | None = None,
    ready: Callable[[int], None] | None = None,
    audio_api: FakeAudioApi | None = None,
    record_dir: str | os.PathLike[str] | None = None,
    require_key: str | None = None,
) -> None:
    """Serve the fake Realtime server on ``host:port`` until cancelled (``port=0``: any free
    port, given to ``ready``). ``config`` defaults to ``FakeServerConfig.realistic()``.
    ``record_dir``: each connection is recorded (server side) in a file of its own there,
    named so that the files sort by time. ``require_key``: only connections that carry this
    key are accepted (401 otherwise, as the real API answers)."""
    if record_dir is not None:
        os.makedirs(record_dir, exist_ok=True)
    if config is None:
        config = FakeServerConfig.realistic()
    servers = FakeServers(config, script=script)
    epoch = time.time() - anyio.current_time()  # for the dates the sessions report

    def handshake(request: ws.Request) -> ws.AcceptConnection | tuple[int, bytes]:
        answer = answer_handshake(
            request.target, request.extra_headers, request.subprotocols, required_key=require_key
        )
        if isinstance(answer, Refused):
            return answer.status, answer.body
        return ws.AcceptConnection(subprotocol=answer.subprotocol)

    async def handle(connection: WebSocketConnection) -> None:
        target = connection.request.target if connection.request is not None else ""
        model = query_value(target, "model") or None
        core = servers(model=model, epoch=epoch)
        if record_dir is None:
            await host_connection(core, connection)
            return
        path = os.path.join(record_dir, recording_name(servers.count))
        async with RecordingTransport(connection, path, side="server") as recorded:
            await host_connection(core, recorded)

    if audio_api is None:
        audio_api = FakeAudioApi(transcripts=config.transcripts)
    http = functools.partial(serve_http, api=audio_api)
    await serve_websocket(handle, host, port, ready=ready, http_handler=http, handshake=handshake)
