"""How the driver sends: the application's commands queue their frames for a writer task,
which sends them in order, those queued together in one write; at most ``MAX_UNSENT`` wait,
then a command waits for the socket; an event that cannot be encoded is the caller's error."""

from __future__ import annotations

import base64
import json
from types import TracebackType

import anyio
import anyio.lowlevel
import pytest
from realtime_sansio.transports.runner import MAX_UNSENT, run
from runner_helpers import GREETER

pytestmark = pytest.mark.anyio


class Wire:
    """A transport that keeps every write; its writes wait while ``held``; no server."""

    def __init__(self) -> None:
        self.writes: list[list[str]] = []
        self.held = False
        self.released = anyio.Event()

    async def __aenter__(self) -> Wire:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pass

    async def _wait(self) -> None:
        if self.held:
            await self.released.wait()
        await anyio.lowlevel.checkpoint()

    async def send(self, text: str) -> None:
        await self._wait()
        self.writes.append([text])

    async def send_many(self, texts: list[str]) -> None:
        await self._wait()
        self.writes.append(list(texts))

    async def receive(self) -> str:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def close(self, code: int = 1000, reason: str = "") -> None:
        pass

    def appends(self) -> list[bytes]:
        frames = [json.loads(text) for write in self.writes for text in write]
        return [
            frame["audio"].encode()
            for frame in frames
            if frame["type"] == "input_audio_buffer.append"
        ]


async def test_commands_in_a_row_go_in_order_and_share_writes() -> None:
    wire = Wire()
    async with run(GREETER, transport=wire) as session:
        before = len(wire.writes)
        for index in range(20):
            await session.send_audio(bytes([index, 0]))
        with anyio.fail_after(5):  # a guard against a hang; it times nothing
            while len(wire.appends()) < 20:
                await anyio.sleep(0)
        assert len(wire.writes) - before < 20  # some shared a write
    assert [base64.b64decode(a) for a in wire.appends()] == [bytes([i, 0]) for i in range(20)]


async def test_at_most_max_unsent_frames_wait_then_a_command_waits_for_the_socket() -> None:
    wire = Wire()
    async with run(GREETER, transport=wire) as session:
        wire.held = True
        sent = 0

        async def sender() -> None:
            nonlocal sent
            for index in range(MAX_UNSENT * 3):
                await session.send_audio(bytes([index % 256, 0]))
                sent += 1

        async with anyio.create_task_group() as group:
            group.start_soon(sender)
            for _ in range(50):  # the loop runs on; the sender stays held back
                await anyio.sleep(0)
            assert sent <= MAX_UNSENT + 1
            assert len(session._unsent) <= MAX_UNSENT
            wire.held = False
            wire.released.set()
        assert sent == MAX_UNSENT * 3
        with anyio.fail_after(5):
            while len(wire.appends()) < MAX_UNSENT * 3:
                await anyio.sleep(0)
    assert [base64.b64decode(a)[0] for a in wire.appends()] == [
        i % 256 for i in range(MAX_UNSENT * 3)
    ]


async def test_an_event_that_cannot_be_encoded_is_the_callers_error() -> None:
    wire = Wire()
    async with run(GREETER, transport=wire) as session:
        await session.send_audio(b"\x01\x00")
        with pytest.raises(TypeError):
            await session.send_raw_event({"type": "conversation.item.create", "bad": object()})
        await session.send_audio(b"\x02\x00")  # the session goes on
        with anyio.fail_after(5):
            while len(wire.appends()) < 2:
                await anyio.sleep(0)
