"""What surviving a dropped connection costs: the downtime, and the CPU of a replay.

    python bench/reconnect.py [--rounds R] [--history N ...] [--items K]

(a) Downtime over loopback. ``serve_fake`` runs on a real socket (port 0, in this process);
``run()`` connects to it over the WebSocket stack with a ``transport_factory``, has a
conversation of N items, then asks one more question and, at the first delta of the answer,
the connection is dropped (the socket shut, as a network failure does: close 1006). Measured
on the loop's clock: from the drop to the ``ReconnectedEvent`` (a new connection opened, the
agent's ``session.update`` and the history replayed and echoed), and to the first delta of the
response asked again. The policy's backoff is set to 0 (``initial_delay_s=0``, no jitter) so
that the figures are the cost of the move itself; add ``ReconnectPolicy.initial_delay_s``
(0.25 s by default) and its jitter for the default behaviour. Two fakes: instant (pace 0) and
``FakeServerConfig.realistic()`` (the first token 350 ms after ``response.created``, as the
real model answers). Median of R rounds.

(b) The CPU of a replay of a K-item history (``--items``, 1,000 by default: user and assistant
messages, function calls with their outputs), in the pure core: the drop and the new
connection handled (``ConnectionLost``, then ``Connected``: the plan, the ``session.update``,
K ``conversation.item.create`` events chained by ``previous_item_id``) and every frame encoded
for the wire. Beside it, to relate it to something known, the codec alone encoding the same
K items as ``conversation.item.create`` frames. Best of R (``time.process_time``).

Figures of one run on the development machine (Python 3.11, 2 cores shared with other work,
asyncio, the default 5 rounds; ``python bench/reconnect.py``, about two minutes, most of it
the realistic fake's answers while the histories are built):

    (a) downtime over loopback, from the drop (median of 5)
        fake       history   reconnected   first delta again
        instant         10       11.6 ms             12.4 ms
        instant        100       63.9 ms             64.8 ms
        realistic       10       13.6 ms            462.3 ms
        realistic      100       63.6 ms            510.9 ms
    (b) replaying a 1,000-item history (best of 5, CPU)
        drop + connect + replay, frames encoded     16.7 ms  (16.7 us per item)
        the codec encoding the 1,000 items            8.4 ms  (8.4 us per item)
        ratio                                        2.0x

The downtime is a new WebSocket handshake on loopback plus the replay: the client sends the
history at once and waits for the fake to echo it, so it grows with the history (about half
a millisecond an item here, on a loaded machine; runs vary by 2x); with a real server add
the network's round trips, TLS, and the backoff. The response asked again then takes the
model's time to its first token (350 ms in the realistic fake), as any response does. The
replay's CPU is the plan (each item as the model should read it again: heard text for a cut
reply, calls with their outputs) and its encoding: twice the bare encoding of the same items,
some 17 ms once per outage for a 1,000-item history.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import anyio
from realtime_sansio.protocol import (
    Agent,
    ModelConfig,
    ReconnectPolicy,
    RunConfig,
    Session,
    events,
    inputs,
    wire,
)
from realtime_sansio.protocol.fake import FakeServerConfig
from realtime_sansio.protocol.items import item_to_wire
from realtime_sansio.transports.base import ConnectionClosed, Transport
from realtime_sansio.transports.connect import open_realtime
from realtime_sansio.transports.runner import RealtimeSession, run
from realtime_sansio.transports.serve import serve_fake

AGENT = Agent(name="Bench", instructions="Be brief.")
NO_BACKOFF = RunConfig(reconnect=ReconnectPolicy(initial_delay_s=0.0, jitter=0.0))


# -- (a) downtime over loopback --------------------------------------------------------------


class Droppable:
    """A transport whose connection the bench can drop: the read under way is abandoned and
    the session reads the end as a network failure (1006); the socket is shut on exit."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self._dropped = False
        self._reading: anyio.CancelScope | None = None

    async def __aenter__(self) -> Droppable:
        await self.inner.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.inner.__aexit__(*exc)

    def drop(self) -> None:
        self._dropped = True
        if self._reading is not None:
            self._reading.cancel()

    def _gone(self) -> ConnectionClosed:
        return ConnectionClosed(1006, "dropped by the bench")

    async def send(self, text: str) -> None:
        if self._dropped:
            raise self._gone()
        await self.inner.send(text)

    async def receive(self) -> str:
        if not self._dropped:
            with anyio.CancelScope() as self._reading:
                return await self.inner.receive()
        raise self._gone()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.inner.close(code, reason)


async def _until(session: RealtimeSession, done: Callable[[events.SessionEvent], bool]) -> float:
    """Read events until one is ``done``; the loop's time then."""
    with anyio.fail_after(30):
        async for event in session:
            if done(event):
                return anyio.current_time()
    raise RuntimeError("the session ended")


def _at_rest(session: RealtimeSession) -> Callable[[events.SessionEvent], bool]:
    return lambda event: isinstance(event, events.AgentEndEvent) and not session.busy


async def one_outage(port: int, history: int) -> tuple[float, float]:
    """A conversation of ``history`` items, a drop at the first delta of the next answer:
    seconds from it to the ReconnectedEvent and to the first delta of the answer again."""
    model = ModelConfig(url=f"ws://127.0.0.1:{port}", api_key="unused")
    opened: list[Droppable] = []

    def connect() -> Transport:
        opened.append(Droppable(open_realtime(model)))
        return opened[-1]

    async with run(AGENT, config=NO_BACKOFF, transport_factory=connect) as session:
        for turn in range(history // 2):
            await session.send_message(f"question {turn}")
            await _until(session, _at_rest(session))
        await session.send_message("one more question")
        await _until(session, lambda e: isinstance(e, events.TranscriptDeltaEvent))
        dropped = anyio.current_time()
        opened[-1].drop()
        reconnected = await _until(session, lambda e: isinstance(e, events.ReconnectedEvent))
        again = await _until(session, lambda e: isinstance(e, events.TranscriptDeltaEvent))
        await session.close()
    return reconnected - dropped, again - dropped


async def downtime(rounds: int, histories: list[int]) -> list[tuple[str, int, float, float]]:
    rows = []
    for name, config in (
        ("instant", FakeServerConfig(brain=False)),
        ("realistic", FakeServerConfig.realistic(brain=False)),
    ):
        ports: list[int] = []
        ready = anyio.Event()

        def announce(port: int, ports: list[int] = ports, ready: anyio.Event = ready) -> None:
            ports.append(port)
            ready.set()

        async with anyio.create_task_group() as group:
            serving = functools.partial(serve_fake, "127.0.0.1", 0, config=config, ready=announce)
            group.start_soon(serving)
            await ready.wait()
            for history in histories:
                figures = [await one_outage(ports[0], history) for _ in range(rounds)]
                rows.append(
                    (
                        name,
                        history,
                        statistics.median(f[0] for f in figures),
                        statistics.median(f[1] for f in figures),
                    )
                )
            group.cancel_scope.cancel()
    return rows


# -- (b) the CPU of a replay ------------------------------------------------------------------


def _history_frames(items: int) -> list[str]:
    """Server frames that give a session ``items`` items: user and assistant messages, and
    every fourth exchange a function call with its output."""
    frames = []
    previous = None
    for n in range(items):
        kind = n % 4
        if kind == 0:
            item: dict[str, Any] = {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": f"What about point {n}?"}],
            }
        elif kind == 1:
            item = {
                "type": "function_call",
                "call_id": f"call_{n}",
                "name": "lookup",
                "arguments": json.dumps({"point": n}),
            }
        elif kind == 2:
            item = {"type": "function_call_output", "call_id": f"call_{n - 1}", "output": "42"}
        else:
            text = f"Point {n} is answered: forty-two, as the lookup says."
            item = {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text}],
            }
        item.update(id=f"item_{n}", object="realtime.item", status="completed")
        frames.append(
            json.dumps(
                {
                    "type": "conversation.item.done",
                    "event_id": f"event_{n}",
                    "previous_item_id": previous,
                    "item": item,
                }
            )
        )
        previous = item["id"]
    return frames


def replay_cpu(items: int, rounds: int) -> tuple[float, float]:
    """Best CPU seconds of a drop + new connection + replay (frames encoded), and of the
    codec encoding the same items."""
    session = Session(AGENT, config=RunConfig(reconnect=ReconnectPolicy(max_attempts=10_000)))
    session.handle(inputs.Connected(), now=0.0)
    for frame in _history_frames(items):
        session.handle(frame, now=0.0)
    assert len(session.history) == items
    history = session.history.items()
    now = 0.0
    replays, codec = [], []
    for _ in range(rounds):
        now += 60.0  # each connection lived: every outage starts from its first attempt
        start = time.process_time()
        frames = [
            session.encode(output)
            for event in (inputs.ConnectionLost(code=1006, reason="bench"), inputs.Connected())
            for output in session.handle(event, now=now)
            if isinstance(output, wire.ClientEventBase | wire.RawClientEvent)
        ]
        replays.append(time.process_time() - start)
        assert len(frames) >= items, f"{len(frames)} frames for {items} items"
        start = time.process_time()
        for item in history:
            session.encode(wire.ConversationItemCreate(item=item_to_wire(item)))
        codec.append(time.process_time() - start)
    return min(replays), min(codec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--history", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--items", type=int, default=1000)
    args = parser.parse_args()
    rows = anyio.run(downtime, args.rounds, args.history)
    print(f"(a) downtime over loopback, from the drop (median of {args.rounds})")
    print(f"    {'fake':<10}{'history':>8}{'reconnected':>14}{'first delta again':>20}")
    for name, history, reconnected, again in rows:
        print(f"    {name:<10}{history:>8}{reconnected * 1000:>11.1f} ms{again * 1000:>17.1f} ms")
    replay, codec = replay_cpu(args.items, args.rounds)
    n = args.items
    print(f"(b) replaying a {n:,}-item history (best of {args.rounds}, CPU)")
    print(
        f"    drop + connect + replay, frames encoded  {replay * 1000:>7.1f} ms"
        f"  ({replay * 1e6 / n:.1f} us per item)"
    )
    print(
        f"    the codec encoding the {n:,} items        {codec * 1000:>7.1f} ms"
        f"  ({codec * 1e6 / n:.1f} us per item)"
    )
    print(f"    ratio                                    {replay / codec:>7.1f}x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
