"""``serve_fake``: the fake Realtime server behind a real WebSocket, for any client.

Each connection gets a fresh ``FakeRealtimeServer`` (with the same config and script), hosted
by ``hosting.host_connection``. Point the official ``openai`` package at it with
``AsyncOpenAI(websocket_base_url="ws://127.0.0.1:8765/v1", api_key="unused")``, or this
library with ``ModelConfig(url="ws://127.0.0.1:8765")``.
"""

from __future__ import annotations

from collections.abc import Callable

from realtime_sansio.protocol.fake import FakeRealtimeServer, FakeScript, FakeServerConfig

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
) -> None:
    """Serve the fake Realtime server on ``host:port`` until cancelled (``port=0``: any free
    port, given to ``ready``)."""

    async def handle(connection: WebSocketConnection) -> None:
        await host_connection(FakeRealtimeServer(config, script=script), connection)

    await serve_websocket(handle, host, port, ready=ready)
