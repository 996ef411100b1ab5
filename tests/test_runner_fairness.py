"""Many sessions in one loop share it: none starves, whatever its server sends.

Each session here has a server that always has frames ready: its transport's ``receive_many``
hands out a full batch at once, without waiting (as the WebSocket does with frames already
parsed from one read). The driver must still let the loop run other tasks between batches
(the other sessions, every subscriber), so that consumers keep up and no raw event is dropped.
Nothing is timed: the order in which the subscribers read is what is checked.
"""

from __future__ import annotations

import json
from types import TracebackType

import anyio
import anyio.lowlevel
import pytest
from realtime_sansio.protocol import events
from realtime_sansio.transports.runner import MAX_BATCH, run
from runner_helpers import GREETER

pytestmark = pytest.mark.anyio

SESSIONS = 8
FRAMES = 1500  # more than a subscriber's default max_raw: a starved reader would drop some
FRAME = json.dumps(
    {
        "type": "rate_limits.updated",
        "event_id": "event_1",
        "rate_limits": [{"name": "tokens", "limit": 100, "remaining": 90, "reset_seconds": 1.0}],
    }
)


class ReadyServer:
    """A transport whose server has ``FRAMES`` frames ready at once, then goes quiet."""

    def __init__(self) -> None:
        self.left = FRAMES
        self.quiet = anyio.Event()

    async def __aenter__(self) -> ReadyServer:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pass

    async def send(self, text: str) -> None:
        await anyio.lowlevel.checkpoint()

    async def receive(self) -> str:
        return (await self.receive_many(1))[0]

    async def receive_many(self, limit: int) -> list[str]:
        if not self.left:
            await anyio.sleep_forever()
        count = min(limit, self.left)
        self.left -= count
        return [FRAME] * count  # no wait: the frames are already here

    async def close(self, code: int = 1000, reason: str = "") -> None:
        pass


async def test_sessions_with_ever_ready_servers_share_the_loop() -> None:
    order: list[int] = []  # which session's subscriber read each raw event, in turn
    dropped: list[events.EventsDroppedEvent] = []

    async def one(index: int) -> None:
        async with run(GREETER, transport=ReadyServer()) as session:
            seen = 0
            async for event in session:
                if isinstance(event, events.EventsDroppedEvent):
                    dropped.append(event)
                    return
                if isinstance(event, events.RawModelEvent):
                    order.append(index)
                    seen += 1
                    if seen == FRAMES:
                        return

    with anyio.fail_after(20):  # a guard against a hang; it times nothing
        async with anyio.create_task_group() as group:
            for index in range(SESSIONS):
                group.start_soon(one, index)
    assert not dropped
    assert sorted(set(order)) == list(range(SESSIONS))
    # Long before the first session is through, every other one has been served too: no
    # session read more than two batches while another waited for its first.
    first_of_each = max(order.index(index) for index in range(SESSIONS))
    assert first_of_each < SESSIONS * 2 * MAX_BATCH
