"""The probe's timeouts name the step that did not finish and the time spent.

On trio the clock is virtual (``MockClock``: sleeping costs nothing, times are exact); asyncio
has none, so there the limits are a fraction of a second and the times checked as ranges.
"""

from __future__ import annotations

import re
from types import TracebackType
from typing import Any

import anyio
import pytest
from realtime_sansio.protocol import ModelConfig
from realtime_sansio.protocol.fake import Expect, FakeRealtimeServer
from realtime_sansio.transports.diagnostics import (
    ProbeResult,
    format_probe_failure,
    probe_text_turn,
)
from realtime_sansio.transports.memory import FakeServerTransport, memory_pair
from trio.testing import MockClock

pytestmark = pytest.mark.anyio

LIMIT_MS = 200
CONFIG = ModelConfig(url="ws://127.0.0.1:1", api_key="unused")  # the transports replace it


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    if request.param == "trio":
        return ("trio", {"clock": MockClock(autojump_threshold=0)})
    return "asyncio"


class NeverConnects:
    """A transport whose connecting never finishes."""

    async def __aenter__(self) -> NeverConnects:
        await anyio.sleep_forever()
        return self  # pragma: no cover

    async def __aexit__(self, *exc_info: object) -> None:
        pass  # pragma: no cover - never entered

    async def send(self, text: str) -> None:
        raise AssertionError("never connected")  # pragma: no cover

    async def receive(self) -> str:
        raise AssertionError("never connected")  # pragma: no cover

    async def close(self, code: int = 1000, reason: str = "") -> None:
        pass  # pragma: no cover


class GivesUpConnecting(NeverConnects):
    """A transport whose own connect timeout fires first (as the WebSocket's 10 s handshake
    limit does before a probe's 20 s)."""

    def __init__(self, after_s: float, message: str = "") -> None:
        self.after_s = after_s
        self.message = message

    async def __aenter__(self) -> GivesUpConnecting:
        await anyio.sleep(self.after_s)
        raise TimeoutError(self.message) if self.message else TimeoutError


class SlowToClose(FakeServerTransport):
    """The fake server, but leaving it waits until the probe's deadline has passed."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await anyio.sleep_forever()
        finally:
            await super().__aexit__(exc_type, exc, tb)


def timed_out(result: ProbeResult) -> str:
    assert not result.ok and result.reason == "probe_timeout"
    line = format_probe_failure(result)
    assert "\n" not in line
    return result.detail


async def test_connecting_that_never_finishes() -> None:
    result = await probe_text_turn(
        model_config=CONFIG, transport=NeverConnects(), timeout_ms=LIMIT_MS
    )
    assert timed_out(result) == (
        f"timed out after {LIMIT_MS} ms connecting (TCP, TLS, WebSocket handshake)"
    )
    assert result.session_id is None and result.events == ()


@pytest.mark.parametrize("message", ["", "the WebSocket handshake did not finish in 0.1 s"])
async def test_the_connections_own_timeout_is_not_the_probes(message: str) -> None:
    transport = GivesUpConnecting(0.1, message)
    result = await probe_text_turn(model_config=CONFIG, transport=transport, timeout_ms=20000)
    detail = timed_out(result)
    match = re.fullmatch(
        r"timed out after (\d+) ms connecting \(TCP, TLS, WebSocket handshake\)"
        r": the connection's own limit, before the probe's 20000 ms(.*)",
        detail,
    )
    assert match, detail
    assert 100 <= int(match[1]) < 20000
    assert match[2] == (f"; {message}" if message else "")


async def test_a_server_that_never_says_session_created() -> None:
    client, server = memory_pair()
    async with server:
        result = await probe_text_turn(model_config=CONFIG, transport=client, timeout_ms=LIMIT_MS)
    assert timed_out(result) == f"timed out after {LIMIT_MS} ms waiting for session.created"
    assert result.session_id is None


async def test_a_server_that_never_answers_the_request() -> None:
    server = FakeRealtimeServer(script=[Expect(type="response.create", handle=False)])
    result = await probe_text_turn(
        model_config=CONFIG, transport=FakeServerTransport(server), timeout_ms=LIMIT_MS
    )
    assert timed_out(result) == f"timed out after {LIMIT_MS} ms waiting for response.done"
    assert result.session_id == "sess_1"
    assert "(session sess_1)" in format_probe_failure(result)


async def test_an_answer_is_kept_when_closing_outlasts_the_deadline() -> None:
    result = await probe_text_turn(
        model_config=CONFIG, transport=SlowToClose(), timeout_ms=LIMIT_MS
    )
    assert result.ok and result.events[-1] == "response.done"
