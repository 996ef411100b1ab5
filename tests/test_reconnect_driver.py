"""Reconnecting and recycling through the driver (``run`` with a ``transport_factory``), on
asyncio and trio, on a virtual clock: the in-memory fake, a new server per connection.

- A failed attempt to connect, as the driver reports it to the core: a network error, a
  handshake that timed out, a 5xx are tried again; a refused key, a quota, no key at all end
  the session.
- Recycling across three expiries: a fake whose sessions last 60 s, a session that recycles
  after 50 s, a conversation of several minutes: every turn is there once, in order, and
  answered, and no connection ever reached its cap.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import pytest
from realtime_sansio.protocol import Agent, RunConfig, events
from realtime_sansio.protocol.errors import LocalProtocolError
from realtime_sansio.protocol.fake import FakeServerConfig
from realtime_sansio.protocol.items import AssistantMessage, InputText, UserMessage
from realtime_sansio.transports.auth import ApiKeyError
from realtime_sansio.transports.base import Transport
from realtime_sansio.transports.memory import FakeServerConnections
from realtime_sansio.transports.runner import RealtimeSession, run
from realtime_sansio.transports.websocket import HandshakeError
from resilience_helpers import Dropping, FrameCounter
from virtual_clock import VIRTUAL_CLOCK_BACKENDS, virtual_clock_backend

agent = Agent(name="Plain", instructions="Be brief.")
TEXT_FAKE = FakeServerConfig(brain=False)  # every answer is "OK." in text


@pytest.fixture(params=VIRTUAL_CLOCK_BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> object:
    return virtual_clock_backend(request.param)


async def answered(session: RealtimeSession, text: str) -> list[events.SessionEvent]:
    """Send ``text``; the events until the session is at rest again."""
    await session.send_message(text)
    seen: list[events.SessionEvent] = []
    with anyio.fail_after(60):  # virtual seconds
        async for event in session:
            seen.append(event)
            if isinstance(event, events.AgentEndEvent) and not session.busy:
                return seen
    raise AssertionError(f"the session ended before answering {text!r}")


def user_texts(session: RealtimeSession) -> list[str]:
    return [
        part.text
        for item in session.history
        if isinstance(item, UserMessage)
        for part in item.content
        if isinstance(part, InputText)
    ]


def failing_once(failure: Exception) -> tuple[Callable[[], Transport], FakeServerConnections]:
    """Connections whose first drops (before its 8th frame) and whose second attempt fails
    with ``failure``; any later one opens."""
    connections = FakeServerConnections(TEXT_FAKE)
    counter = FrameCounter(drop_before=8)
    calls = 0

    def factory() -> Transport:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise failure
        return Dropping(connections(), counter)

    return factory, connections


RETRIED = [
    OSError("Network is unreachable"),
    TimeoutError("the WebSocket handshake took longer than 10 s"),
    HandshakeError(503, "overloaded"),
]
NOT_RETRIED = [
    HandshakeError(401, "Incorrect API key provided"),
    HandshakeError(403, "forbidden"),
    HandshakeError(429, "You exceeded your current quota"),
    ApiKeyError("no API key: set OPENAI_API_KEY"),
]


@pytest.mark.anyio
@pytest.mark.parametrize("failure", RETRIED, ids=lambda e: type(e).__name__)
async def test_a_failed_attempt_worth_another_is_tried_again(
    failure: Exception, anyio_backend: object
) -> None:
    factory, connections = failing_once(failure)
    async with run(agent, transport_factory=factory) as session:
        seen = await answered(session, "first")
        with anyio.fail_after(60):
            while not [e for e in seen if isinstance(e, events.ReconnectedEvent)]:
                seen.append(await session.__aiter__().__anext__())
        attempts = [e.attempt for e in seen if isinstance(e, events.ReconnectingEvent)]
        assert attempts == [1, 2]
        assert [e.attempt for e in seen if isinstance(e, events.ReconnectedEvent)] == [2]
        await answered(session, "second")
        assert user_texts(session) == ["first", "second"]
        assert connections.count == 2  # the failed attempt made none


@pytest.mark.anyio
@pytest.mark.parametrize("failure", NOT_RETRIED, ids=lambda e: f"{type(e).__name__}")
async def test_a_failed_attempt_that_cannot_improve_ends_the_session(
    failure: Exception, anyio_backend: object
) -> None:
    factory, connections = failing_once(failure)
    async with run(agent, transport_factory=factory) as session:
        await session.send_message("first")
        seen = []
        with anyio.fail_after(60):
            async for event in session:  # ends with the session
                seen.append(event)
        attempts = [e.attempt for e in seen if isinstance(e, events.ReconnectingEvent)]
        assert attempts == [1]
        assert [e for e in seen if isinstance(e, events.ConnectionClosedEvent)]
        with pytest.raises(LocalProtocolError, match="reconnecting failed"):
            await session.send_message("anyone?")
    assert connections.count == 1


@pytest.mark.anyio
async def test_a_conversation_survives_three_expiries_by_recycling(anyio_backend: object) -> None:
    connections = FakeServerConnections(FakeServerConfig(brain=False, max_session_s=60.0))
    config = RunConfig(recycle_after_s=50.0)  # moves at 50, 100 and 150 s
    turns = [f"turn {n}" for n in range(1, 11)]
    seen: list[events.SessionEvent] = []
    async with run(agent, config=config, transport_factory=connections) as session:
        for text in turns:
            if seen:
                await anyio.sleep(20)  # quiet: a recycle may come now
            seen += await answered(session, text)
        history = session.history.items()
        server = connections.servers[-1].model.conversation
    recycled = [e for e in seen if isinstance(e, events.SessionRecycledEvent)]
    assert len(recycled) == 3
    assert connections.count == len(recycled) + 1
    # Every move came before a server's cap: no expiry, no drop, nothing to reconnect.
    assert not [e for e in seen if isinstance(e, events.ReconnectingEvent | events.ErrorEvent)]
    assert all(50.0 <= e.age_s < 60.0 for e in recycled)
    assert [item.id for item in history] == list(server)
    assert user_texts(session) == turns
    kinds = [type(item) for item in history]
    assert kinds == [UserMessage, AssistantMessage] * len(turns)
