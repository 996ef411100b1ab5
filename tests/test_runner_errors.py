"""What comes out of ``async with run(...)`` when something fails, on asyncio and on trio.

The driver nests two task groups (the transport's and its own); the user must still be able
to write ``except KeyError`` around the block. One failure comes out as itself, several as
one flat group, cancellation untouched, and a tool's exception goes to the model instead.
"""

from __future__ import annotations

import json
import traceback
from types import TracebackType

import anyio
import anyio.abc
import pytest
from realtime_sansio.protocol import Agent, events, function_tool
from realtime_sansio.protocol.fake import FakeRealtimeServer
from realtime_sansio.transports.hosting import host_connection
from realtime_sansio.transports.memory import FakeServerTransport, memory_pair
from realtime_sansio.transports.runner import run
from runner_helpers import GREETER, Recording, collect_until, of, turn_over

pytestmark = pytest.mark.anyio


class FakeWithWorkers:
    """The fake server in memory, hosted in this transport's own task group beside
    ``workers`` tasks that fail once ``cue`` is set: a transport's background work breaking."""

    def __init__(self, workers: int) -> None:
        self.cue = anyio.Event()
        self._workers = workers
        self._client, self._server = memory_pair()
        self._group = anyio.create_task_group()

    async def __aenter__(self) -> FakeWithWorkers:
        await self._group.__aenter__()
        self._group.start_soon(host_connection, FakeRealtimeServer(), self._server)
        for number in range(self._workers):
            self._group.start_soon(self._work, number)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        await self._client.close(1000, "")
        self._group.cancel_scope.cancel()
        return await self._group.__aexit__(exc_type, exc, tb)

    async def _work(self, number: int) -> None:
        await self.cue.wait()
        raise OSError(f"worker {number} broke")

    async def send(self, text: str) -> None:
        await self._client.send(text)

    async def receive(self) -> str:
        return await self._client.receive()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._client.close(code, reason)


class BrokenReceive(FakeServerTransport):
    """The fake server in memory, but ``receive`` fails (a transport's bug) after a frame."""

    async def receive(self) -> str:
        await super().receive()
        raise RuntimeError("receive broke")


def _raised_here(exc: BaseException, line: str) -> bool:
    return any(frame.line == line for frame in traceback.extract_tb(exc.__traceback__))


async def test_the_bodys_exception_comes_out_as_itself() -> None:
    error = KeyError("no such order")
    try:
        async with run(GREETER, transport=FakeServerTransport()) as session:
            await session.send_message("Hello")
            raise error
    except KeyError as caught:
        assert caught is error
        assert caught.__context__ is None  # no task group chained onto it
        assert _raised_here(caught, "raise error")  # the traceback still points at the body
    else:
        pytest.fail("the KeyError did not come out")


async def test_the_bodys_exception_group_comes_out_as_itself() -> None:
    mine = ExceptionGroup("my own tasks", [ValueError("one"), ValueError("two")])
    with pytest.raises(ExceptionGroup) as caught:
        async with run(GREETER, transport=FakeServerTransport()):
            raise mine
    assert caught.value is mine


async def test_a_transport_failure_comes_out_as_itself() -> None:
    with pytest.raises(RuntimeError, match="receive broke"):
        async with run(GREETER, transport=BrokenReceive()):
            await anyio.sleep_forever()


async def test_a_raising_tool_is_told_to_the_model_not_raised() -> None:
    @function_tool
    def get_weather(city: str) -> str:
        """Get the current weather for a city."""
        raise KeyError(city)

    transport = Recording()
    async with run(Agent(name="Unlucky", tools=[get_weather]), transport=transport) as session:
        await session.send_message("What is the weather in Paris?")
        seen = await collect_until(session, turn_over(session))
    (end,) = of(seen, events.ToolEndEvent)
    assert end.failed and end.output == "Error: KeyError: 'Paris'"
    sent = [json.loads(text) for text in transport.sent]
    outputs = [
        e["item"]["output"] for e in sent if e.get("item", {}).get("type") == "function_call_output"
    ]
    assert outputs == ["Error: KeyError: 'Paris'"]
    transport.check_conformance()


async def test_two_failing_background_tasks_give_one_flat_group() -> None:
    transport = FakeWithWorkers(workers=2)
    with pytest.raises(ExceptionGroup) as caught:
        async with run(GREETER, transport=transport):
            transport.cue.set()
            await anyio.sleep_forever()
    assert sorted(str(e) for e in caught.value.exceptions) == ["worker 0 broke", "worker 1 broke"]


async def test_the_body_and_a_background_task_failing_give_one_flat_group() -> None:
    transport = FakeWithWorkers(workers=1)
    error = KeyError("no such order")
    with pytest.raises(ExceptionGroup) as caught:
        async with run(GREETER, transport=transport):
            transport.cue.set()
            raise error
    leaves = caught.value.exceptions
    assert error in leaves and len(leaves) == 2
    assert not any(isinstance(e, BaseExceptionGroup) for e in leaves)
    assert [str(e) for e in leaves if isinstance(e, OSError)] == ["worker 0 broke"]


async def test_a_cancellation_passes_through() -> None:
    with anyio.CancelScope() as scope:
        async with run(GREETER, transport=FakeServerTransport()):
            scope.cancel()
            await anyio.sleep_forever()
    assert scope.cancelled_caught
    with pytest.raises(TimeoutError):
        with anyio.fail_after(0.1):
            async with run(GREETER, transport=FakeServerTransport()):
                await anyio.sleep_forever()


async def test_keyboard_interrupt_is_not_wrapped() -> None:
    interrupt = KeyboardInterrupt()
    with pytest.raises(KeyboardInterrupt) as caught:
        async with run(GREETER, transport=FakeServerTransport()):
            raise interrupt
    assert caught.value is interrupt
