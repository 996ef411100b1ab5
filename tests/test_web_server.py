"""``serve_web`` over real loopback sockets, on asyncio and trio: the page's files, the socket
beside them on one port, and who may use that socket. Also ``serve_websocket``'s
``http_handler`` hook it is built on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import h11
import pytest
from realtime_sansio.transports.base import ConnectionClosed
from realtime_sansio.transports.web import WebBridge, serve_web
from realtime_sansio.transports.web.server import SOCKET_PATH, refusal
from realtime_sansio.transports.websocket import (
    WebSocketConnection,
    WebSocketTransport,
    answering,
    serve_websocket,
)
from web_helpers import ANSWER, QUESTION, LoggedKind, Page
from wsproto import events as ws

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def serving(
    serve: Callable[..., Awaitable[None]], *args: Any, **kwargs: Any
) -> AsyncIterator[int]:
    """Run a server taking ``ready=`` in the background; its port."""
    ports: list[int] = []
    bound = anyio.Event()

    def ready(port: int) -> None:
        ports.append(port)
        bound.set()

    async with anyio.create_task_group() as group:
        group.start_soon(lambda: serve(*args, ready=ready, **kwargs))
        with anyio.fail_after(20):
            await bound.wait()
            yield ports[0]
        group.cancel_scope.cancel()


@asynccontextmanager
async def web() -> AsyncIterator[int]:
    async with serving(serve_web, WebBridge(LoggedKind()), "127.0.0.1", 0) as port:
        yield port


async def http(port: int, method: str, target: str) -> tuple[h11.Response, bytes]:
    """One HTTP/1.1 request with h11; the response and its body."""
    client = h11.Connection(h11.CLIENT)
    stream = await anyio.connect_tcp("127.0.0.1", port)
    async with stream:
        request = h11.Request(method=method, target=target, headers=[("Host", f"127.0.0.1:{port}")])
        await stream.send(client.send(request) + client.send(h11.EndOfMessage()))
        response: h11.Response | None = None
        body = b""
        while True:
            event = client.next_event()
            if event is h11.NEED_DATA:
                try:
                    client.receive_data(await stream.receive())
                except anyio.EndOfStream:
                    client.receive_data(b"")
                continue
            if isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                assert response is not None
                return response, body


def header(response: h11.Response, name: str) -> str:
    values = [v.decode() for k, v in response.headers if k.decode().lower() == name.lower()]
    return values[0] if values else ""


async def test_the_page_and_its_files_are_served() -> None:
    async with web() as port:
        page, html = await http(port, "GET", "/")
        script, js = await http(port, "GET", "/app.js?v=1")
        head, empty = await http(port, "HEAD", "/style.css")
        missing, _ = await http(port, "GET", "/../pyproject.toml")
        posted, _ = await http(port, "POST", "/")
    assert (page.status_code, page.reason) == (200, b"OK")
    assert header(page, "content-type") == "text/html; charset=utf-8"
    assert b'<script type="module" src="app.js">' in html
    assert "default-src 'self'" in header(page, "content-security-policy")
    assert header(page, "cache-control") == "no-store"
    assert (script.status_code, header(script, "content-type")) == (
        200,
        "text/javascript; charset=utf-8",
    )
    assert b"audio_played" in js
    assert (head.status_code, empty, header(head, "content-type")) == (
        200,
        b"",
        "text/css; charset=utf-8",
    )
    assert int(header(head, "content-length")) > 0
    assert missing.status_code == 404
    assert (posted.status_code, header(posted, "allow")) == (405, "GET, HEAD")


async def test_the_socket_beside_the_page_runs_a_conversation() -> None:
    async with web() as port:
        transport = WebSocketTransport(f"ws://127.0.0.1:{port}{SOCKET_PATH}")
        async with transport:
            page = Page(transport)
            await page.send(type="hello")
            assert (await page.next("ready"))["agent"] == "Greeter"
            await page.send(type="text", text=QUESTION)
            assert (await page.next("caption_done", role="assistant"))["text"] == ANSWER


@pytest.mark.parametrize(
    ("url", "headers", "why"),
    [
        ("/ws", [("Origin", "http://evil.example")], "another site"),
        ("/ws", [("Origin", "http://127.0.0.1:1")], "another site"),
        ("/elsewhere", [], "the socket is at /ws"),
    ],
)
async def test_a_socket_for_another_site_is_refused(
    url: str, headers: list[tuple[str, str]], why: str
) -> None:
    async with web() as port:
        transport = WebSocketTransport(f"ws://127.0.0.1:{port}{url}", headers=headers)
        async with transport:
            with pytest.raises(ConnectionClosed) as closed:
                await transport.receive()
    assert closed.value.code == 1008
    assert why in closed.value.reason


async def test_the_page_own_origin_is_let_in() -> None:
    async with web() as port:
        origin = [("Origin", f"http://127.0.0.1:{port}")]
        async with WebSocketTransport(f"ws://127.0.0.1:{port}/ws", headers=origin) as transport:
            page = Page(transport)
            await page.send(type="hello")
            await page.next("ready")


def test_who_may_use_the_socket() -> None:
    here = "127.0.0.1:8080"
    assert refusal(here, "http://127.0.0.1:8080", "/ws", "127.0.0.1") is None
    assert refusal("localhost:8080", "http://localhost:8080", "/ws", "127.0.0.1") is None
    assert refusal("[::1]:8080", "http://[::1]:8080", "/ws?x=1", "::1") is None
    assert refusal(here, None, "/ws", "127.0.0.1") is None  # not a browser
    # A name that resolves here but is not ours: a DNS-rebinding page, same origin with itself.
    evil = ("attacker.example:8080", "http://attacker.example:8080", "/ws")
    assert "does not answer to" in (refusal(*evil, "127.0.0.1") or "")
    # Served on every address, the user chose to be reachable by any name.
    assert refusal(*evil, "0.0.0.0") is None
    assert refusal("box.lan:8080", "http://box.lan:8080", "/ws", "box.lan") is None
    assert "another site" in (refusal("box.lan:8080", "http://evil:8080", "/ws", "::") or "")
    assert "the socket is at /ws" in (refusal(here, None, "/", "127.0.0.1") or "")


# -- the hook under it: serve_websocket(http_handler=...) -----------------------------------------


async def hang_up(connection: WebSocketConnection) -> None:
    await connection.close()


async def test_without_an_http_handler_a_plain_request_still_gets_400() -> None:
    async with serving(serve_websocket, hang_up, "127.0.0.1", 0) as port:
        response, body = await http(port, "GET", "/")
    assert response.status_code == 400
    assert b"WebSocket endpoint" in body


async def test_a_failing_http_handler_is_a_500_and_the_server_goes_on() -> None:
    calls: list[bytes] = []

    async def handler(request: h11.Request) -> tuple[int, list[tuple[str, str]], bytes]:
        calls.append(request.target)
        if request.target == b"/boom":
            raise RuntimeError("a bug in the handler")
        return 200, [("Content-Type", "text/plain")], b"fine"

    async with serving(
        serve_websocket, hang_up, "127.0.0.1", 0, http_handler=answering(handler)
    ) as port:
        broken, _ = await http(port, "GET", "/boom")
        fine, body = await http(port, "GET", "/ok")
        # The socket on the same port is untouched by the hook.
        async with WebSocketTransport(f"ws://127.0.0.1:{port}/") as transport:
            with pytest.raises(ConnectionClosed):
                await transport.receive()
    assert (broken.status_code, broken.reason) == (500, b"Internal Server Error")
    assert (fine.status_code, body) == (200, b"fine")
    assert calls == [b"/boom", b"/ok"]


async def test_the_server_side_connection_keeps_its_upgrade_request() -> None:
    seen: list[ws.Request | None] = []

    async def handler(connection: WebSocketConnection) -> None:
        seen.append(connection.request)
        await connection.close()

    async with serving(serve_websocket, handler, "127.0.0.1", 0) as port:
        headers = [("X-Test", "yes")]
        async with WebSocketTransport(
            f"ws://127.0.0.1:{port}/path?q=1", headers=headers
        ) as transport:
            with pytest.raises(ConnectionClosed):
                await transport.receive()
    (request,) = seen
    assert request is not None
    assert request.target == "/path?q=1"
    assert (b"x-test", b"yes") in [(k.lower(), v) for k, v in request.extra_headers]
