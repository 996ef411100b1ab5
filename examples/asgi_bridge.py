"""The web page's bridge inside your own ASGI application, served here by uvicorn.

    pip install uvicorn                     # for this example only; the library never needs it
    python examples/asgi_bridge.py [--port 8000] [--live]

A bare ASGI callable: ``GET /`` and the page's files come from the package (``StaticFiles``),
``/ws`` is the bridge's socket, through ``AsgiSocket``, a small adapter from an ASGI WebSocket
to the ``Transport`` that ``WebBridge.serve`` takes. Any ASGI framework (Starlette, FastAPI,
Django Channels...) can mount the same two things next to its own routes. The origin check is
the library's own (``refusal``): another site's page must not talk through your key.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from realtime_sansio.transports.base import ClosingOnExit, ConnectionClosed
from realtime_sansio.transports.web import WebBridge
from realtime_sansio.transports.web.app import WebOptions, build_kind
from realtime_sansio.transports.web.server import StaticFiles, refusal

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class AsgiSocket(ClosingOnExit):
    """An accepted ASGI WebSocket as a ``Transport`` (text frames)."""

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self._closed: ConnectionClosed | None = None

    async def send(self, text: str) -> None:
        if self._closed is not None:
            raise self._closed
        try:
            await self._send({"type": "websocket.send", "text": text})
        except Exception as exc:  # servers differ in what they raise once the client is gone
            self._closed = ConnectionClosed(1006, "the connection dropped")
            raise self._closed from exc

    async def receive(self) -> str:
        while self._closed is None:
            message = await self._receive()
            if message["type"] == "websocket.receive" and message.get("text") is not None:
                return str(message["text"])
            if message["type"] == "websocket.disconnect":
                self._closed = ConnectionClosed(message.get("code", 1006), "")
        raise self._closed

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self._closed is None:
            self._closed = ConnectionClosed(code, reason)
            # Already gone: closed all the same.
            with contextlib.suppress(Exception):
                await self._send({"type": "websocket.close", "code": code, "reason": reason})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def make_app(bridge: WebBridge, *, served_on: str = "127.0.0.1") -> App:
    """The page at ``/`` and the bridge at ``/ws``; ``served_on`` is the address listened on."""
    files = StaticFiles()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
        elif scope["type"] == "http":
            status, headers, body = files.answer(scope["method"], scope["path"])
            raw = [(name.encode(), value.encode()) for name, value in headers]
            await send({"type": "http.response.start", "status": status, "headers": raw})
            await send({"type": "http.response.body", "body": body})
        elif scope["type"] == "websocket":
            await receive()  # websocket.connect
            host = _header(scope, b"host") or ""
            problem = refusal(host, _header(scope, b"origin"), scope["path"], served_on)
            if problem is not None:
                await send({"type": "websocket.close", "code": 1008, "reason": problem})
                return
            await send({"type": "websocket.accept"})
            await bridge.serve(AsgiSocket(receive, send))

    return app


def main() -> None:
    import uvicorn  # the example's own dependency

    parser = argparse.ArgumentParser(description="The web page's bridge in an ASGI app.")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--live", action="store_true", help="the real API (needs an API key)")
    args = parser.parse_args()
    bridge = WebBridge(build_kind(WebOptions(mode="live" if args.live else "fake")))
    print(f"open http://127.0.0.1:{args.port}/")
    uvicorn.run(make_app(bridge), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
