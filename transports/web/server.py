"""``serve_web``: the page and its WebSocket on one port (h11 and wsproto, no framework).

``GET /`` is the page; the other static files (package data in ``static/``, read once at
start) are served by name; ``/ws`` is the bridge's WebSocket. Anything else is 404, a method
other than GET or HEAD 405.

The API key stays on this server, so the socket must not be usable by another site's page in
the same browser: an upgrade whose ``Origin`` is not this server's own, or whose ``Host`` is
not a name this server answers to (a DNS-rebinding attempt), is closed with 1008 before the
bridge reads anything. Clients that send no ``Origin`` (not a browser) are let in. Served on a
wildcard address (``0.0.0.0``) the ``Host`` check is off: the user chose to be reachable.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from importlib import resources
from urllib.parse import urlsplit

import h11
from wsproto import events as ws

from ..websocket import WebSocketConnection, answering, serve_websocket
from .bridge import WebBridge

__all__ = ["SOCKET_PATH", "StaticFiles", "refusal", "serve_web"]

SOCKET_PATH = "/ws"
"""Where the page opens its WebSocket."""

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
# The page loads nothing from elsewhere and runs no inline script: say so to the browser.
_HEADERS = (
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", "default-src 'self'; object-src 'none'; base-uri 'none'"),
    ("Permissions-Policy", "microphone=(self)"),
)
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


class StaticFiles:
    """The page's files, read once: ``answer(method, path)`` gives (status, headers, body)."""

    def __init__(self, files: Iterable[tuple[str, bytes]] | None = None) -> None:
        if files is None:
            folder = resources.files(__package__ or "").joinpath("static")
            files = ((entry.name, entry.read_bytes()) for entry in folder.iterdir())
        self.files = {f"/{name}": body for name, body in files if _content_type(name) is not None}
        self.files["/"] = self.files["/index.html"]

    def answer(self, method: str, path: str) -> tuple[int, Sequence[tuple[str, str]], bytes]:
        path = urlsplit(path).path
        if method not in ("GET", "HEAD"):
            return 405, [("Allow", "GET, HEAD"), ("Content-Type", "text/plain")], b"GET only\n"
        body = self.files.get(path)
        if body is None:
            return 404, [("Content-Type", "text/plain")], b"Not Found\n"
        kind = _content_type("index.html" if path == "/" else path) or "text/plain"
        return 200, [("Content-Type", kind), *_HEADERS], body


def _content_type(name: str) -> str | None:
    dot = name.rfind(".")
    return _TYPES.get(name[dot:]) if dot >= 0 else None


def _hostname(authority: str) -> str:
    """The host of a ``Host`` header or an origin's netloc, without port or brackets."""
    return (urlsplit(f"//{authority}").hostname or "").lower()


def _is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def refusal(host: str, origin: str | None, path: str, served_on: str) -> str | None:
    """Why a socket must be refused (see the module docstring), or None: ``host`` is the
    request's ``Host``, ``origin`` its ``Origin`` (None: not a browser), ``path`` its path,
    ``served_on`` the address the server listens on. An ASGI application can ask it too."""
    if not _is_wildcard(served_on) and _hostname(host) not in _LOOPBACK_NAMES | {served_on.lower()}:
        return f"this server does not answer to {host!r}"
    if origin is not None and urlsplit(origin).netloc != host:
        return "the page of another site may not use this socket"
    if urlsplit(path).path != SOCKET_PATH:
        return f"the socket is at {SOCKET_PATH}"
    return None


def _refuse_upgrade(request: ws.Request, served_on: str) -> str | None:
    headers = {name.lower(): value for name, value in request.extra_headers}
    origin = headers.get(b"origin")
    return refusal(
        request.host, origin.decode("latin-1") if origin else None, request.target, served_on
    )


async def serve_web(
    bridge: WebBridge,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    ready: Callable[[int], None] | None = None,
    static: StaticFiles | None = None,
) -> None:
    """Serve the page and the bridge's socket on ``host:port`` until cancelled
    (``port=0``: any free port, given to ``ready``)."""
    files = static or StaticFiles()

    async def page(request: h11.Request) -> tuple[int, Sequence[tuple[str, str]], bytes]:
        return files.answer(request.method.decode("ascii"), request.target.decode("latin-1"))

    async def socket(connection: WebSocketConnection) -> None:
        assert connection.request is not None  # serve_websocket sets it
        problem = _refuse_upgrade(connection.request, host)
        if problem is not None:
            await connection.close(1008, problem)
            return
        await bridge.serve(connection)

    await serve_websocket(socket, host, port, ready=ready, http_handler=answering(page))
