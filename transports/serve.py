"""``serve_fake``: the fake Realtime server behind a real WebSocket, for any client.

Each connection gets a fresh ``FakeRealtimeServer`` (with the same config and script), hosted
by ``hosting.host_connection``. Point the official ``openai`` package at it with
``AsyncOpenAI(websocket_base_url="ws://127.0.0.1:8765/v1", api_key="unused")``, or this
library with ``ModelConfig(url="ws://127.0.0.1:8765")``.

Plain HTTP requests on the same port reach the fake's speech endpoints
(``/v1/audio/transcriptions``, ``/v1/audio/speech``, served by ``fake_http``), one
``FakeAudioApi`` for the whole server (by default transcribing with ``config.transcripts``):
``AsyncOpenAI(base_url="http://127.0.0.1:8765/v1", api_key="unused")``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from realtime_sansio.protocol.fake import FakeRealtimeServer, FakeScript, FakeServerConfig
from realtime_sansio.protocol.fake.audio_api import FakeAudioApi

from .fake_http import serve_http
from .hosting import host_connection
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
) -> None:
    """Serve the fake Realtime server on ``host:port`` until cancelled (``port=0``: any free
    port, given to ``ready``)."""

    async def handle(connection: WebSocketConnection) -> None:
        await host_connection(FakeRealtimeServer(config, script=script), connection)

    if audio_api is None:
        audio_api = FakeAudioApi(transcripts=config.transcripts if config else None)
    http = functools.partial(serve_http, api=audio_api)
    await serve_websocket(handle, host, port, ready=ready, http_handler=http)
