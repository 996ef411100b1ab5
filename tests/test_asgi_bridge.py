"""``examples/asgi_bridge.py``: the same bridge inside an ASGI application, served by uvicorn
(a test and example dependency, never the library's). Skipped when uvicorn is missing."""

from __future__ import annotations

import importlib.util
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType

import anyio
import pytest
from realtime_sansio.transports.web import WebBridge
from realtime_sansio.transports.websocket import HandshakeError, WebSocketTransport
from test_web_server import http
from web_helpers import ANSWER, QUESTION, LoggedKind, Page

uvicorn = pytest.importorskip(
    "uvicorn", reason="uvicorn is not installed: pip install -e '.[test]'"
)

pytestmark = pytest.mark.anyio

EXAMPLE = Path(__file__).parent.parent / "examples" / "asgi_bridge.py"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # uvicorn runs on asyncio


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("asgi_bridge", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@asynccontextmanager
async def uvicorn_serving(bridge: WebBridge) -> AsyncIterator[int]:
    app = load_example().make_app(bridge)
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(16)  # connections wait in the backlog until uvicorn has started
    port = listening.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as group:
        group.start_soon(lambda: server.serve(sockets=[listening]))
        with anyio.fail_after(20):
            yield port
        server.should_exit = True


async def test_the_example_serves_the_page_and_the_bridge() -> None:
    async with uvicorn_serving(WebBridge(LoggedKind())) as port:
        response, html = await http(port, "GET", "/")
        async with WebSocketTransport(f"ws://127.0.0.1:{port}/ws") as transport:
            page = Page(transport)
            await page.send(type="hello")
            assert (await page.next("ready"))["agent"] == "Greeter"
            await page.send(type="text", text=QUESTION)
            assert (await page.next("caption_done", role="assistant"))["text"] == ANSWER
            assert page.of("audio")
    assert response.status_code == 200
    assert b"app.js" in html


async def test_the_example_refuses_another_site() -> None:
    async with uvicorn_serving(WebBridge(LoggedKind())) as port:
        evil = [("Origin", "http://evil.example")]
        with pytest.raises(HandshakeError) as refused:
            async with WebSocketTransport(f"ws://127.0.0.1:{port}/ws", headers=evil):
                pass
    assert refused.value.status == 403  # a close before the accept is a refused handshake
