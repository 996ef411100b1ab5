"""The raw probe against serve_fake over a real WebSocket: the proof on success, and each
classified failure made by a fake script (or a small HTTP server for refused handshakes).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.abc
import attrs
import pytest
from realtime_sansio.protocol import ModelConfig
from realtime_sansio.protocol.fake import (
    DropAfter,
    ErrorEvent,
    Expect,
    FakeScript,
    FakeServerConfig,
    Respond,
    ScriptStep,
)
from realtime_sansio.transports.diagnostics import (
    ProbeResult,
    format_probe_failure,
    probe_text_turn,
)
from realtime_sansio.transports.serve import serve_fake
from realtime_sansio.transports.websocket import WebSocketConnection, serve_websocket

pytestmark = pytest.mark.anyio

KEY = "sk-proj-diagnostics-test-key-0a1b2c3d4e5f6a7b8c9d"


@asynccontextmanager
async def fake(
    steps: list[ScriptStep] | None = None, config: FakeServerConfig | None = None
) -> AsyncIterator[ModelConfig]:
    """serve_fake on a loopback port, with ``steps`` as its script; the ModelConfig for it."""
    bound: list[int] = []
    ready = anyio.Event()

    def on_ready(port: int) -> None:
        bound.append(port)
        ready.set()

    script = FakeScript(steps=steps) if steps is not None else None
    async with anyio.create_task_group() as group:
        group.start_soon(
            lambda: serve_fake("127.0.0.1", 0, script=script, config=config, ready=on_ready)
        )
        await ready.wait()
        yield ModelConfig(url=f"ws://127.0.0.1:{bound[0]}", api_key=KEY)
        group.cancel_scope.cancel()


def refused(error: ErrorEvent) -> list[ScriptStep]:
    """The server swallows the probe's request and answers it with ``error``."""
    return [Expect(type="response.create", handle=False), error]


def check_line(result: ProbeResult) -> str:
    line = format_probe_failure(result)
    assert "\n" not in line and KEY not in line
    assert KEY not in repr(result)
    return line


async def test_the_proof_of_a_text_turn() -> None:
    async with fake() as config:
        result = await probe_text_turn(model_config=config, timeout_ms=5000)
    assert result.ok and result.reason is None
    assert result.model == "gpt-realtime"
    assert result.session_id == "sess_1"
    assert result.events[0] == "session.created"
    assert "response.created" in result.events and result.events[-1] == "response.done"
    assert "response.output_text.delta" in result.events  # the probe asks for text only
    assert result.reply == "You said: Reply with exactly ok. What else can I do for you?"
    line = check_line(result)
    assert line.startswith("probe ok: model gpt-realtime, session sess_1,")
    assert json.dumps(result.reply) in line


async def test_the_proof_with_a_scripted_reply_and_another_model() -> None:
    async with fake([attrs.evolve(Respond.text("ok"), out_of_band=True)]) as config:
        mini = attrs.evolve(config, model="gpt-realtime-mini")
        result = await probe_text_turn(model_config=mini, prompt="Say ok.", timeout_ms=5000)
    assert result.ok and result.model == "gpt-realtime-mini" and result.reply == "ok"


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            ErrorEvent(
                code="insufficient_quota",
                type="insufficient_quota",
                message="You exceeded your current quota, please check your plan and billing.",
            ),
            "insufficient_quota",
        ),
        (
            ErrorEvent(
                code="model_not_found",
                message="The model `gpt-realtime` does not exist or you do not have access to it.",
            ),
            "realtime_model_unavailable",
        ),
        (
            ErrorEvent(
                code="unknown_parameter",
                message="Unknown parameter: 'response.output_modalities'.",
                param="response.output_modalities",
            ),
            "realtime_protocol_incompatible",
        ),
        (
            ErrorEvent(code="invalid_api_key", message="Incorrect API key provided."),
            "auth_failed",
        ),
        (ErrorEvent(code="something_new", message="A code nobody knows."), "realtime_error"),
    ],
    ids=lambda value: value if isinstance(value, str) else value.code,
)
async def test_an_error_event_is_classified(error: ErrorEvent, reason: str) -> None:
    async with fake(refused(error)) as config:
        result = await probe_text_turn(model_config=config, timeout_ms=5000)
    assert not result.ok and result.reason == reason
    assert result.session_id == "sess_1" and result.events[-1] == "error"
    assert error.message in result.detail and (error.code or "") in result.detail
    line = check_line(result)
    assert line == f"probe failed: {reason} (session sess_1): {result.detail}"


async def test_an_error_that_quotes_the_key_does_not_show_it() -> None:
    error = ErrorEvent(code="invalid_api_key", message=f"Incorrect API key provided: {KEY}.")
    async with fake(refused(error)) as config:
        result = await probe_text_turn(model_config=config, timeout_ms=5000)
    assert result.reason == "auth_failed"
    assert KEY not in result.detail and "Incorrect API key provided" in result.detail
    check_line(result)


async def test_a_many_line_detail_is_written_on_one_line() -> None:
    page = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>nginx</body>\r\n"
    async with refusing(502, page) as config:
        result = await probe_text_turn(model_config=config, timeout_ms=5000)
    assert result.reason == "realtime_upstream_server_error"
    line = check_line(result)
    assert "<title>502 Bad Gateway</title></head> <body>nginx" in line


async def test_a_failed_response_is_an_upstream_server_error_with_the_session() -> None:
    async with fake([Respond(failure="server_error", out_of_band=True)]) as config:
        result = await probe_text_turn(model_config=config, timeout_ms=5000)
    assert not result.ok and result.reason == "realtime_upstream_server_error"
    assert result.session_id == "sess_1"
    assert result.events[-1] == "response.done"
    assert "server_error" in result.detail
    assert "(session sess_1)" in check_line(result)


async def test_a_server_that_never_answers_is_a_probe_timeout() -> None:
    async with fake([Expect(type="response.create", handle=False)]) as config:
        with anyio.fail_after(5):
            result = await probe_text_turn(model_config=config, timeout_ms=300)
    assert not result.ok and result.reason == "probe_timeout"
    assert result.detail == "timed out after 300 ms waiting for response.done"
    assert result.session_id == "sess_1" and "session.created" in result.events
    check_line(result)


async def test_a_silent_socket_is_a_probe_timeout() -> None:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener:  # accepts at the TCP level (the backlog), never answers the upgrade
        config = ModelConfig(url=f"ws://127.0.0.1:{port}", api_key=KEY)
        result = await probe_text_turn(model_config=config, timeout_ms=300)
    assert result.reason == "probe_timeout" and result.session_id is None
    assert result.detail.startswith("timed out after 300 ms connecting")


async def test_a_dropped_connection_is_a_connection_failure() -> None:
    async with fake([DropAfter(count=0)]) as config:
        result = await probe_text_turn(model_config=config, timeout_ms=5000)
    assert not result.ok and result.reason == "connection_failed"
    assert "1006" in result.detail
    check_line(result)


async def test_the_beta_shape_refused_is_a_protocol_incompatibility() -> None:
    # The service closes with 4000 when it refuses the beta shape: a server that does just
    # that after the upgrade stands in for it.
    async def refuse_beta(connection: WebSocketConnection) -> None:
        await connection.close(4000, "beta API shape disabled")

    bound: list[int] = []
    ready = anyio.Event()

    def on_ready(port: int) -> None:
        bound.append(port)
        ready.set()

    async with anyio.create_task_group() as group:
        group.start_soon(lambda: serve_websocket(refuse_beta, ready=on_ready))
        await ready.wait()
        beta = ModelConfig(url=f"ws://127.0.0.1:{bound[0]}", api_key=KEY, dialect="beta")
        result = await probe_text_turn(model_config=beta, timeout_ms=5000)
        group.cancel_scope.cancel()
    assert result.reason == "realtime_protocol_incompatible"
    assert "4000" in result.detail and "beta" in result.detail


@asynccontextmanager
async def refusing(status: int, body: bytes) -> AsyncIterator[ModelConfig]:
    async def handle(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            request = b""
            while b"\r\n\r\n" not in request:
                request += await stream.receive()
            head = f"HTTP/1.1 {status} Refused\r\nContent-Length: {len(body)}\r\n\r\n"
            await stream.send(head.encode() + body)

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    async with anyio.create_task_group() as group:
        group.start_soon(listener.serve, handle)
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        yield ModelConfig(url=f"ws://127.0.0.1:{port}", api_key=KEY)
        group.cancel_scope.cancel()


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (429, "insufficient_quota"),
        (401, "auth_failed"),
        (403, "realtime_model_unavailable"),
        (404, "realtime_model_unavailable"),
        (500, "realtime_upstream_server_error"),
    ],
)
async def test_a_refused_handshake_is_classified(status: int, reason: str) -> None:
    error = {"message": "You exceeded your current quota.", "code": "insufficient_quota"}
    async with refusing(status, json.dumps({"error": error}).encode()) as config:
        result = await probe_text_turn(model_config=config, timeout_ms=5000)
    assert not result.ok and result.reason == reason
    assert f"HTTP {status}" in result.detail
    assert "You exceeded your current quota." in result.detail
    check_line(result)


async def test_no_key_for_api_openai_com(tmp_path: Path) -> None:
    environ = {"CODEX_HOME": str(tmp_path), "HOME": str(tmp_path), "OPENAI_API_KEY": "  "}
    result = await probe_text_turn(environ=environ, timeout_ms=300)
    assert not result.ok and result.reason == "no_api_key"
    assert result.model == "gpt-realtime" and result.events == ()
    line = check_line(result)
    assert line.startswith("probe failed: no_api_key: no API key")


async def test_nothing_listening_is_a_connection_failure() -> None:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    await listener.aclose()
    config = ModelConfig(url=f"ws://127.0.0.1:{port}", api_key=KEY)
    result = await probe_text_turn(model_config=config, timeout_ms=3000)
    assert result.reason == "connection_failed"
    check_line(result)


async def test_an_unusable_ca_bundle_is_a_connection_failure(tmp_path: Path) -> None:
    environ = {
        "OPENAI_API_KEY": KEY,
        "CODEX_HOME": str(tmp_path),
        "HOME": str(tmp_path),
        "SSL_CERT_FILE": str(tmp_path / "missing.pem"),
        "HTTPS_PROXY": "http://127.0.0.1:9",  # were it to connect at all, it stays here
    }
    result = await probe_text_turn(environ=environ, timeout_ms=1000)
    assert not result.ok and result.reason == "connection_failed"
    assert "SSL_CERT_FILE=" in result.detail and "missing.pem" in result.detail
    check_line(result)


async def test_a_port_that_does_not_speak_http_is_a_connection_failure() -> None:
    async def ssh(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await stream.receive()
            await stream.send(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    async with anyio.create_task_group() as group:
        group.start_soon(listener.serve, ssh)
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        config = ModelConfig(url=f"ws://127.0.0.1:{port}", api_key=KEY)
        result = await probe_text_turn(model_config=config, timeout_ms=3000)
        group.cancel_scope.cancel()
    assert result.reason == "connection_failed"
    assert "not HTTP" in result.detail
    check_line(result)


def test_a_callable_key_is_called_once() -> None:
    calls: list[int] = []

    def key() -> str:
        calls.append(1)
        return "sk-callable-key-0123456789"

    async def probe() -> None:
        await probe_text_turn(
            timeout_ms=500,
            model_config=ModelConfig(url="ws://127.0.0.1:1", api_key=key),
            environ={"CODEX_HOME": "/nonexistent-codex-home"},
        )

    anyio.run(probe)
    assert calls == [1]
