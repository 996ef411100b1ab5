"""The fake's side of the opening handshake: ``?model=`` names the session's model, the
subprotocols a browser offers (``realtime``, the key in ``openai-insecure-api-key.<key>``)
are answered as the real API answers them, and ``require_key`` refuses a missing or wrong key
with the real 401 body. The socket tests run on asyncio only where the ``websockets`` library
(a browser's stand-in: it offers subprotocols) is the client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest
import websockets
from realtime_sansio.protocol.fake import FakeServerConfig
from realtime_sansio.protocol.fake.handshake import (
    Accepted,
    Refused,
    answer_handshake,
    query_value,
)
from realtime_sansio.transports.serve import serve_fake
from realtime_sansio.transports.websocket import HandshakeError, WebSocketTransport

KEY = "sk-test-fake-handshake-0123456789abcdef"


@pytest.mark.parametrize(
    ("target", "model"),
    [
        ("/v1/realtime?model=gpt-realtime-mini", "gpt-realtime-mini"),
        ("/v1/realtime?call_id=x&model=gpt-realtime%2D2", "gpt-realtime-2"),
        ("/v1/realtime", None),
        ("/v1/realtime?model=", None),
    ],
)
def test_the_model_comes_from_the_url(target: str, model: str | None) -> None:
    assert answer_handshake(target, [], []) == Accepted(model=model, subprotocol=None)


def test_query_values_are_decoded() -> None:
    assert query_value("/x?a=1&name=caf%C3%A9+au+lait", "name") == "café au lait"
    assert query_value("/x?a=1", "name") is None


def test_a_browser_gets_the_realtime_subprotocol_and_its_key_is_read() -> None:
    offered = ["realtime", f"openai-insecure-api-key.{KEY}"]
    assert answer_handshake("/v1/realtime", [], offered, required_key=KEY) == Accepted(
        model=None, subprotocol="realtime"
    )


@pytest.mark.parametrize(
    ("headers", "code", "said"),
    [
        ([], None, "You didn't provide an API key."),
        ([(b"authorization", b"Bearer sk-wrong-0000000000001234")], "invalid_api_key", "sk-"),
    ],
)
def test_a_missing_or_wrong_key_is_the_real_401(
    headers: list[tuple[bytes, bytes]], code: str | None, said: str
) -> None:
    answer = answer_handshake("/v1/realtime", headers, [], required_key=KEY)
    assert isinstance(answer, Refused) and answer.status == 401
    error = json.loads(answer.body)["error"]
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", code, None)
    assert error["message"].startswith(said if code is None else "Incorrect API key provided: sk-")
    assert "wrong-0000000000" not in error["message"]  # the key is shown masked, as by the API
    assert answer_handshake(
        "/v1/realtime", [(b"Authorization", f"Bearer {KEY}".encode())], [], required_key=KEY
    ) == Accepted(model=None, subprotocol=None)


@asynccontextmanager
async def served(**options: object) -> AsyncIterator[int]:
    bound: list[int] = []
    ready = anyio.Event()

    def on_ready(port: int) -> None:
        bound.append(port)
        ready.set()

    async with anyio.create_task_group() as group:
        group.start_soon(
            lambda: serve_fake(
                "127.0.0.1",
                0,
                config=FakeServerConfig(),
                ready=on_ready,
                **options,  # type: ignore[arg-type]
            )
        )
        await ready.wait()
        yield bound[0]
        group.cancel_scope.cancel()


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_browser_style_client_connects_with_subprotocols() -> None:
    async with served(require_key=KEY) as port:
        url = f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime-mini"
        protocols = ["realtime", f"openai-insecure-api-key.{KEY}"]
        async with websockets.connect(url, subprotocols=protocols) as connection:  # type: ignore[arg-type]
            assert connection.subprotocol == "realtime"
            created = json.loads(await connection.recv())
        assert (created["type"], created["session"]["model"]) == (
            "session.created",
            "gpt-realtime-mini",
        )


@pytest.mark.anyio
async def test_our_client_meets_the_401_with_the_apis_message() -> None:
    async with served(require_key=KEY) as port:
        url = f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"
        with pytest.raises(HandshakeError) as refused:
            async with WebSocketTransport(
                url, headers={"Authorization": "Bearer sk-not-the-key-1234"}
            ):
                pass
        assert refused.value.status == 401
        assert "Incorrect API key provided" in refused.value.message
        assert "(invalid_api_key)" in refused.value.message
        async with WebSocketTransport(url, headers={"Authorization": f"Bearer {KEY}"}) as ok:
            assert json.loads(await ok.receive())["type"] == "session.created"
