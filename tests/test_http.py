"""The h11 HTTP client, and minting an ephemeral client secret, against a loopback server."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
import anyio.abc
import h11
import pytest
from realtime_sansio.transports.auth import ApiKeyError
from realtime_sansio.transports.http import HttpError, mint_client_secret, request

pytestmark = pytest.mark.anyio

KEY = "sk-test-THIS-KEY-MUST-NEVER-SHOW-0123"
NO_ENV: dict[str, str] = {"CODEX_HOME": "/nonexistent-codex-home"}

Reply = Callable[[str, str, dict[str, str], bytes], tuple[int, bytes]]


async def serve_once(reply: Reply, task_status: anyio.abc.TaskStatus[int]) -> None:
    """A one-request HTTP server: ``reply(method, target, headers, body)``."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    task_status.started(listener.extra(anyio.abc.SocketAttribute.local_port))
    async with listener:
        stream = await listener.listeners[0].accept()
        async with stream:
            conn = h11.Connection(h11.SERVER)
            method = target = ""
            headers: dict[str, str] = {}
            body = b""
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await stream.receive())
                elif isinstance(event, h11.Request):
                    method, target = event.method.decode(), event.target.decode()
                    headers = {k.decode().lower(): v.decode() for k, v in event.headers}
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, h11.EndOfMessage):
                    break
            status, payload = reply(method, target, headers, body)
            await stream.send(
                conn.send(
                    h11.Response(
                        status_code=status,
                        headers=[
                            ("Content-Type", "application/json"),
                            ("Content-Length", str(len(payload))),
                        ],
                    )
                )
            )
            await stream.send(conn.send(h11.Data(data=payload)))
            await stream.send(conn.send(h11.EndOfMessage()))


async def against(reply: Reply, call: Callable[[str], Any]) -> Any:
    """``await call(base_url)`` while a one-request server answers with ``reply``."""
    result: Any = None
    failure: Exception | None = None
    async with anyio.create_task_group() as tg:
        port = await tg.start(serve_once, reply)
        try:
            result = await call(f"http://127.0.0.1:{port}")
        except Exception as exc:  # raised outside the task group, not inside an ExceptionGroup
            failure = exc
        tg.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return result


async def test_a_client_secret_is_minted_with_the_key_and_the_session() -> None:
    seen: dict[str, Any] = {}

    def reply(method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        seen.update(method=method, target=target, auth=headers["authorization"])
        seen["body"] = json.loads(body)
        return 200, json.dumps({"value": "ek_123", "expires_at": 1767225600}).encode()

    secret = await against(
        reply,
        lambda base: mint_client_secret(
            api_key=KEY,
            session={"type": "realtime", "model": "gpt-realtime"},
            expires_after_s=600,
            base_url=base,
            environ=NO_ENV,
        ),
    )
    assert secret["value"] == "ek_123"
    assert seen["method"] == "POST"
    assert seen["target"] == "/v1/realtime/client_secrets"
    assert seen["auth"] == f"Bearer {KEY}"
    assert seen["body"] == {
        "session": {"type": "realtime", "model": "gpt-realtime"},
        "expires_after": {"anchor": "created_at", "seconds": 600},
    }


async def test_a_refusal_is_a_clear_error_without_the_key() -> None:
    def reply(method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        message = f"Incorrect API key provided: {KEY}."
        return 401, json.dumps({"error": {"message": message, "code": "invalid_api_key"}}).encode()

    with pytest.raises(HttpError) as info:
        await against(
            reply, lambda base: mint_client_secret(api_key=KEY, base_url=base, environ=NO_ENV)
        )
    assert info.value.status == 401
    assert "Incorrect API key" in str(info.value)
    assert KEY not in str(info.value)
    assert KEY not in repr(info.value)


async def test_no_key_and_no_server() -> None:
    with pytest.raises(ApiKeyError):
        await mint_client_secret(environ=NO_ENV)
    with pytest.raises(HttpError, match="cannot reach"):
        await request("GET", "http://127.0.0.1:1/", environ=NO_ENV)
    with pytest.raises(ValueError, match="http://"):
        await request("GET", "ftp://example.com/", environ=NO_ENV)
