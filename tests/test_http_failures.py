"""The h11 HTTP client against servers that answer badly: not JSON, too much, nothing, not
HTTP, or never. Each is an ``HttpError`` that says so. A loopback server per test, on asyncio
and trio with a virtual clock (the timeout costs no time)."""

from __future__ import annotations

import json

import anyio
import anyio.abc
import pytest
from realtime_sansio.transports.http import (
    HttpError,
    error_message,
    mint_client_secret,
    request,
    stream,
)
from virtual_clock import VIRTUAL_CLOCK_BACKENDS, virtual_clock_backend

pytestmark = pytest.mark.anyio

NO_ENV: dict[str, str] = {"CODEX_HOME": "/nonexistent-codex-home"}


@pytest.fixture(params=VIRTUAL_CLOCK_BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> object:
    return virtual_clock_backend(request.param)


def answer(status: int, body: bytes, *, headers: str = "Content-Type: application/json") -> bytes:
    head = f"HTTP/1.1 {status} X\r\n{headers}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def serve_raw(
    reply: bytes | None, task_status: anyio.abc.TaskStatus[int], *, close: bool = True
) -> None:
    """Read one request head, send ``reply`` as it is (None: nothing), then close (or hold)."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    task_status.started(listener.extra(anyio.abc.SocketAttribute.local_port))
    async with listener:
        connection = await listener.listeners[0].accept()
        async with connection:
            seen = b""
            while b"\r\n\r\n" not in seen:
                seen += await connection.receive()
            if reply is not None:
                await connection.send(reply)
            if not close:
                await anyio.sleep_forever()


async def against(reply: bytes | None, call: object, *, close: bool = True) -> object:
    failure: BaseException | None = None
    result: object = None
    async with anyio.create_task_group() as group:
        port = await group.start(lambda task_status: serve_raw(reply, task_status, close=close))
        try:
            result = await call(f"http://127.0.0.1:{port}")  # type: ignore[operator]
        except Exception as exc:  # raised here, not inside an ExceptionGroup
            failure = exc
        group.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return result


async def get(base: str, **options: object) -> object:
    return await request("GET", base + "/x", environ=NO_ENV, **options)  # type: ignore[arg-type]


async def test_a_body_that_is_not_json_says_so() -> None:
    response = await against(answer(200, b"<html>"), get)
    with pytest.raises(HttpError, match="HTTP 200: the response is not JSON"):
        response.json()  # type: ignore[attr-defined]


async def test_headers_are_found_whatever_their_case() -> None:
    async def head(base: str) -> tuple[str | None, str | None]:
        async with stream("GET", base + "/x", environ=NO_ENV) as response:
            return response.header("content-type"), response.header("X-Missing")

    assert await against(answer(200, b"{}"), head) == ("application/json", None)


async def test_a_body_past_the_limit_is_refused() -> None:
    with pytest.raises(HttpError, match="HTTP 200: the response body exceeds 10 bytes"):
        await against(answer(200, b"x" * 11), lambda base: get(base, max_body_bytes=10))


async def test_a_server_that_closes_without_answering() -> None:
    # Not "did not answer in HTTP/1.1: can't handle event type ConnectionClosed", as it was.
    with pytest.raises(
        HttpError, match=r"127\.0\.0\.1:\d+: the connection closed before an answer"
    ):
        await against(None, get)


async def test_a_server_that_does_not_speak_http() -> None:
    with pytest.raises(HttpError, match=r"127\.0\.0\.1:\d+ did not answer in HTTP/1\.1"):
        await against(b"SSH-2.0-OpenSSH\r\n\r\n", get)


async def test_a_server_that_never_answers_times_out() -> None:
    with pytest.raises(HttpError, match=r"no response from 127\.0\.0\.1 within 2 s"):
        await against(None, lambda base: get(base, timeout_s=2), close=False)


async def test_a_body_that_stops_coming_times_out() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"
    with pytest.raises(HttpError, match=r"no response from 127\.0\.0\.1 within 2 s"):
        await against(head, lambda base: get(base, timeout_s=2), close=False)


async def test_a_minted_answer_without_a_secret_is_an_error() -> None:
    async def mint(base: str) -> object:
        return await mint_client_secret(api_key="sk-test", base_url=base, environ=NO_ENV)

    with pytest.raises(HttpError, match="HTTP 200: the answer carries no client secret"):
        await against(answer(200, json.dumps({"expires_at": 1}).encode()), mint)


def test_error_messages_of_bodies_that_are_not_json() -> None:
    assert error_message(b"  Bad gateway  ", 502) == "Bad gateway"
    assert error_message(b"", 503) == "HTTP 503, no details"
    assert error_message(b'{"error": {"message": "slow down"}}', 429) == "slow down"
    assert error_message(b'["odd"]', 400) == "['odd']"
