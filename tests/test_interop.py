"""Interop with peers no one here wrote, over loopback sockets.

(a) our client (``WebSocketTransport``, and the runner) against a server written with the
    ``websockets`` library; (b) the official ``openai`` package against our ``serve_fake``, every
    frame parsed by its models; (c) our client and our server over TLS, with a throwaway CA
    trusted through ``SSL_CERT_FILE`` or ``CODEX_CA_CERTIFICATE``.

(a) and (b) run on asyncio only: ``websockets`` (which the ``openai`` package uses) is
asyncio-bound. (c) runs on asyncio and trio.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import anyio
import anyio.abc
import oracle
import pytest
import trustme
import websockets
from openai import AsyncOpenAI
from openai.resources.realtime.realtime import AsyncRealtimeConnection
from openai.types.realtime import RealtimeFunctionToolParam
from realtime_sansio.protocol import Agent, ModelConfig, events, function_tool
from realtime_sansio.protocol.fake import FakeRealtimeServer, FakeServerConfig
from realtime_sansio.transports.auth import ssl_context_from_env
from realtime_sansio.transports.base import ConnectionClosed
from realtime_sansio.transports.hosting import host_connection
from realtime_sansio.transports.runner import run
from realtime_sansio.transports.serve import serve_fake
from realtime_sansio.transports.websocket import (
    WebSocketConnection,
    WebSocketTransport,
    serve_websocket,
)
from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as websockets_serve

pytestmark = pytest.mark.anyio

asyncio_only = pytest.mark.parametrize("anyio_backend", ["asyncio"])

KEY = "sk-test-interop-00112233445566778899"


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    with anyio.fail_after(timeout):
        while not condition():
            await anyio.sleep(0.01)


# -- (a) our client against the websockets library -------------------------------------------


@asynccontextmanager
async def websockets_server(
    handler: Callable[[ServerConnection], Awaitable[None]],
) -> AsyncIterator[int]:
    async with websockets_serve(handler, "127.0.0.1", 0) as server:
        yield next(iter(server.sockets)).getsockname()[1]


def url(port: int, scheme: str = "ws") -> str:
    return f"{scheme}://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"


@asyncio_only
async def test_frames_fragments_and_pings_with_a_websockets_server() -> None:
    pong_latency: list[float] = []

    async def handler(connection: ServerConnection) -> None:
        await connection.send(['{"type": ', '"fragmented"', "}"])  # one message, 3 frames
        pong = await connection.ping(b"are you there")
        await connection.send("after the ping")
        pong_latency.append(await asyncio.wait_for(pong, 5))
        async for message in connection:
            await connection.send(message)

    async with websockets_server(handler) as port:
        async with WebSocketTransport(url(port)) as transport:
            assert await transport.receive() == '{"type": "fragmented"}'
            assert await transport.receive() == "after the ping"  # the pong went meanwhile
            for text in ["hello", "ünïcødé ✓", "z" * 200_000]:
                await transport.send(text)
                assert await transport.receive() == text
        assert len(pong_latency) == 1


@asyncio_only
async def test_the_bound_against_a_websockets_server() -> None:
    server_saw: list[int | None] = []

    async def handler(connection: ServerConnection) -> None:
        await connection.send("x" * 10_000)
        try:
            await connection.recv()
        except websockets.ConnectionClosed as closed:
            server_saw.append(closed.rcvd.code if closed.rcvd else None)

    async with websockets_server(handler) as port:
        async with WebSocketTransport(url(port), max_message_bytes=4096) as transport:
            with pytest.raises(ConnectionClosed) as raised:
                await transport.receive()
        assert raised.value.code == 1009
        await until(lambda: bool(server_saw))
    assert server_saw == [1009]


@asyncio_only
@pytest.mark.parametrize(
    ("code", "reason"), [(1000, ""), (1001, "session expired"), (4000, "beta")]
)
async def test_closes_both_ways_with_a_websockets_server(code: int, reason: str) -> None:
    server_saw: list[tuple[int, str]] = []

    async def handler(connection: ServerConnection) -> None:
        message = await connection.recv()
        if message == "close please":
            await connection.close(code, reason)
            return
        try:
            await connection.recv()
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None
            server_saw.append((closed.rcvd.code, closed.rcvd.reason))

    async with websockets_server(handler) as port:
        async with WebSocketTransport(url(port)) as transport:
            await transport.send("close please")
            with pytest.raises(ConnectionClosed) as raised:
                await transport.receive()
        assert (raised.value.code, raised.value.reason) == (code, reason)

        async with WebSocketTransport(url(port)) as transport:
            await transport.send("I will close")
            await transport.close(code, reason)
        await until(lambda: bool(server_saw))
    assert server_saw == [(code, reason)]


class WebsocketsTransport:
    """A ``Transport`` over a connection of the ``websockets`` library: the fake Realtime
    server is hosted on it below, exactly as on our own server (docs/transports.md)."""

    def __init__(self, connection: ServerConnection) -> None:
        self._connection = connection

    async def __aenter__(self) -> WebsocketsTransport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @staticmethod
    def _closed(exc: websockets.ConnectionClosed) -> ConnectionClosed:
        frame = exc.rcvd  # the peer's close frame; None when the connection dropped
        if frame is None:
            return ConnectionClosed(1006, "the connection dropped")
        return ConnectionClosed(frame.code, frame.reason)

    async def send(self, text: str) -> None:
        try:
            await self._connection.send(text)
        except websockets.ConnectionClosed as exc:
            raise self._closed(exc) from None

    async def receive(self) -> str:
        try:
            message = await self._connection.recv()
        except websockets.ConnectionClosed as exc:
            raise self._closed(exc) from None
        return message if isinstance(message, str) else message.decode()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._connection.close(code, reason)


@function_tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny and 21 C in {city}"


@asyncio_only
async def test_the_runner_against_the_fake_hosted_by_a_websockets_server() -> None:
    headers_seen: list[dict[str, str]] = []

    async def handler(connection: ServerConnection) -> None:
        assert connection.request is not None
        headers_seen.append(dict(connection.request.headers.raw_items()))
        await host_connection(FakeRealtimeServer(), WebsocketsTransport(connection))

    agent = Agent(name="Forecaster", instructions="Answer about the weather.", tools=[get_weather])
    async with websockets_server(handler) as port:
        config = ModelConfig(url=f"ws://127.0.0.1:{port}", api_key=KEY)
        async with run(agent, model_config=config) as session:
            await session.send_message("What is the weather in Paris?")
            seen: list[events.SessionEvent] = []
            with anyio.fail_after(10):
                async for event in session:
                    seen.append(event)
                    if isinstance(event, events.AgentEndEvent) and not session.busy:
                        break
    (end,) = [e for e in seen if isinstance(e, events.ToolEndEvent)]
    assert end.output == "Sunny and 21 C in Paris"
    said = [e for e in seen if isinstance(e, events.TranscriptDeltaEvent) and e.role == "assistant"]
    assert "Sunny and 21 C in Paris" in "".join(e.delta for e in said)
    (headers,) = headers_seen
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert "OpenAI-Beta" not in headers and headers["User-Agent"].startswith("realtime-sansio/")


# -- (b) the official openai package against serve_fake --------------------------------------


@asynccontextmanager
async def fake_server(config: FakeServerConfig | None = None) -> AsyncIterator[int]:
    """``serve_fake`` on a free port: instant unless a config says otherwise."""
    config = config or FakeServerConfig()
    bound: list[int] = []
    ready = anyio.Event()

    def on_ready(port: int) -> None:
        bound.append(port)
        ready.set()

    async with anyio.create_task_group() as group:
        group.start_soon(lambda: serve_fake("127.0.0.1", 0, config=config, ready=on_ready))
        await ready.wait()
        yield bound[0]
        group.cancel_scope.cancel()


async def next_event(connection: AsyncRealtimeConnection, seen: list[Any]) -> Any:
    """The next server event as the openai package parses it, checked on the way: its class
    is the package's model for its type, and the raw frame validates against that model."""
    raw = await connection.recv_bytes()
    event = connection.parse_event(raw)
    payload = json.loads(raw)
    assert type(event) is oracle.SERVER_EVENT_MODELS[payload["type"]], payload["type"]
    oracle.validate_server_event(payload)
    seen.append(event)
    return event


async def events_until(
    connection: AsyncRealtimeConnection, last: str, seen: list[Any]
) -> list[Any]:
    out = []
    with anyio.fail_after(10):
        while True:
            event = await next_event(connection, seen)
            out.append(event)
            assert event.type != "error", event
            if event.type == last:
                return out


def openai_client(port: int) -> AsyncOpenAI:
    return AsyncOpenAI(websocket_base_url=f"ws://127.0.0.1:{port}/v1", api_key="unused")


@asyncio_only
async def test_the_openai_package_text_turn() -> None:
    seen: list[Any] = []
    async with (
        fake_server() as port,
        openai_client(port).realtime.connect(model="gpt-realtime") as connection,
    ):
        created = await next_event(connection, seen)
        assert created.type == "session.created" and created.session.model == "gpt-realtime"
        await connection.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        await connection.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Hello there"}],
            }
        )
        await connection.response.create()
        turn = await events_until(connection, "response.done", seen)
    text = "".join(e.delta for e in turn if e.type == "response.output_text.delta")
    assert text == "You said: Hello there. What else can I do for you?"
    (done,) = [e for e in turn if e.type == "response.done"]
    assert done.response.status == "completed"
    assert [e.type for e in seen[:3]] == [
        "session.created",
        "conversation.created",
        "rate_limits.updated",
    ]


@asyncio_only
async def test_the_openai_package_function_call_turn() -> None:
    weather_tool: RealtimeFunctionToolParam = {
        "type": "function",
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    }
    seen: list[Any] = []
    async with (
        fake_server() as port,
        openai_client(port).realtime.connect(model="gpt-realtime") as connection,
    ):
        await connection.session.update(
            session={"type": "realtime", "output_modalities": ["text"], "tools": [weather_tool]}
        )
        await events_until(connection, "session.updated", seen)
        await connection.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "What is the weather in Paris?"}],
            }
        )
        await connection.response.create()
        first = await events_until(connection, "response.done", seen)
        (call,) = [e for e in first if e.type == "response.function_call_arguments.done"]
        assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}
        await connection.conversation.item.create(
            item={
                "type": "function_call_output",
                "call_id": call.call_id,
                "output": "Sunny and 21 C",
            }
        )
        await connection.response.create()
        second = await events_until(connection, "response.done", seen)
    reply = "".join(e.delta for e in second if e.type == "response.output_text.delta")
    assert "Sunny and 21 C" in reply
    assert len(seen) > 20  # every one of them parsed and validated on the way


# -- (c) TLS with a throwaway CA ---------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "test-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@asynccontextmanager
async def tls_fake_server(ca: trustme.CA) -> AsyncIterator[int]:
    """The fake Realtime server over TLS (our serve_websocket), certified for 127.0.0.1."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    bound: list[int] = []
    ready = anyio.Event()

    def on_ready(port: int) -> None:
        bound.append(port)
        ready.set()

    async def handler(connection: WebSocketConnection) -> None:
        await host_connection(FakeRealtimeServer(), connection)

    async with anyio.create_task_group() as group:
        group.start_soon(lambda: serve_websocket(handler, ready=on_ready, ssl_context=context))
        await ready.wait()
        yield bound[0]
        group.cancel_scope.cancel()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("CODEX_CA_CERTIFICATE", "SSL_CERT_FILE", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "CODEX_CA_CERTIFICATE"])
async def test_tls_trusted_through_the_environment(
    ca: trustme.CA, ca_file: Path, clean_env: pytest.MonkeyPatch, variable: str
) -> None:
    clean_env.setenv(variable, str(ca_file))
    async with tls_fake_server(ca) as port:
        async with WebSocketTransport(url(port, "wss"), ssl_context=ssl_context_from_env()) as t:
            created = json.loads(await t.receive())
        assert created["type"] == "session.created"

        # The runner finds the trust root itself (open_realtime reads the environment).
        agent = Agent(name="Secure", instructions="Be brief.")
        config = ModelConfig(url=f"wss://127.0.0.1:{port}", api_key=KEY)
        async with run(agent, model_config=config) as session:
            await session.send_message("Hello over TLS")
            transcript = []
            with anyio.fail_after(10):
                async for event in session:
                    if isinstance(event, events.TranscriptDeltaEvent) and event.role == "assistant":
                        transcript.append(event.delta)
                    if isinstance(event, events.AgentEndEvent):
                        break
    assert "".join(transcript) == "You said: Hello over TLS. What else can I do for you?"


async def test_codex_ca_certificate_wins_over_ssl_cert_file(
    ca: trustme.CA, ca_file: Path, clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stranger = tmp_path / "stranger.pem"
    trustme.CA().cert_pem.write_to_path(str(stranger))
    clean_env.setenv("CODEX_CA_CERTIFICATE", str(ca_file))
    clean_env.setenv("SSL_CERT_FILE", str(stranger))
    context = ssl_context_from_env()
    async with (
        tls_fake_server(ca) as port,
        WebSocketTransport(url(port, "wss"), ssl_context=context) as t,
    ):
        assert json.loads(await t.receive())["type"] == "session.created"


async def test_an_untrusted_certificate_is_refused(
    ca: trustme.CA, clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stranger = tmp_path / "stranger.pem"
    trustme.CA().cert_pem.write_to_path(str(stranger))
    clean_env.setenv("SSL_CERT_FILE", str(stranger))
    async with tls_fake_server(ca) as port:
        transport = WebSocketTransport(url(port, "wss"), ssl_context=ssl_context_from_env())
        with pytest.raises((ssl.SSLError, anyio.BrokenResourceError)) as raised:
            async with transport:
                pass
    failure = raised.value
    chain = f"{failure} {failure.__cause__} {failure.__context__}"
    assert "CERTIFICATE_VERIFY_FAILED" in chain or "certificate verify failed" in chain
