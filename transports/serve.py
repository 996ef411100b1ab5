"""``serve_fake``: the fake Realtime server behind a real WebSocket, for any client.

Each connection gets a fresh ``FakeRealtimeServer`` (``FakeServers``: the same config, the
script for its first ``script.connections`` connections, ids that never repeat across
connections, so a client can reconnect), hosted by ``hosting.host_connection``. Point the
official ``openai`` package at it with
``AsyncOpenAI(websocket_base_url="ws://127.0.0.1:8765/v1", api_key="unused")``, or this
library with ``ModelConfig(url="ws://127.0.0.1:8765")``.

Plain HTTP requests on the same port reach the fake's speech endpoints
(``/v1/audio/transcriptions``, ``/v1/audio/speech``, served by ``fake_http``), one
``FakeAudioApi`` for the whole server (by default transcribing with ``config.transcripts``):
``AsyncOpenAI(base_url="http://127.0.0.1:8765/v1", api_key="unused")``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

from realtime_sansio.protocol.fake import FakeScript, FakeServerConfig, FakeServers
from realtime_sansio.protocol.fake.audio_api import FakeAudioApi

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
) -> None:
    """Serve the fake Realtime server on ``host:port`` until cancelled (``port=0``: any free
    port, given to ``ready``). ``record_dir``: each connection is recorded (server side) in a
    file of its own there, named so that the files sort by time."""
    servers = FakeServers(config, script=script)
    if record_dir is not None:
        os.makedirs(record_dir, exist_ok=True)

    async def handle(connection: WebSocketConnection) -> None:
        core = servers()
        if record_dir is None:
            await host_connection(core, connection)
            return
        path = os.path.join(record_dir, recording_name(servers.count))
        async with RecordingTransport(connection, path, side="server") as recorded:
            await host_connection(core, recorded)

    if audio_api is None:
        audio_api = FakeAudioApi(transcripts=config.transcripts if config else None)
    http = functools.partial(serve_http, api=audio_api)
    await serve_websocket(handle, host, port, ready=ready, http_handler=http)
