"""Microseconds per session event for a subscription's ``deliver`` plus its read, beside the
floor measured in the same run: a bare ``deque`` behind the same interface (``deliver`` is
``append``, the read an ``async`` ``popleft`` driven the same way), fed the same events.

    python bench/subscriptions.py [--turns N] [--repeat R]

The events are what a ``Session`` makes of bench/codec.py's conversation (100 ms audio deltas
with their transcript deltas, a ``RawModelEvent`` for every server event, tool calls, usage).
Three regimes: a reader that keeps up (one event delivered, one read), a reader that lags a
whole turn behind (a turn delivered, then read), and a reader that never reads (every event
delivered into a full subscription: raw events over ``max_raw`` are dropped, the oldest
first). Reads drive the ``__anext__`` coroutine by hand: nothing is awaited while events are
buffered, so no event loop is needed and none is measured.

One run (Python 3.11, a 2-CPU container shared with other busy work, so the absolute figures
are slow and move from run to run; compare within a run):

    keeps up               9,119 events  floor  1.26 us/event  subscription  2.70 us/event   2.1x
    lags a turn behind     9,119 events  floor  0.69 us/event  subscription  1.64 us/event   2.4x
    never reads            9,119 events  floor  0.03 us/event  subscription  1.48 us/event  51.6x

Reading: a few microseconds per event at worst, against about 100 us per frame for the whole
client stack (bench/transport.py). The one undivided queue this replaced, measured the same way
in the same runs, cost 0.6 to 0.7x as much keeping up or a turn behind (the new bookkeeping
keeps audio, raw and other events apart and in order), and 12 to 14x more never read: once
full, each event scanned the buffer for audio to evict.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import deque
from collections.abc import Coroutine
from typing import Any

from codec import conversation
from realtime_sansio.protocol import Agent, Session, events, inputs
from realtime_sansio.transports.subscriptions import Subscription

Batches = list[list[events.SessionEvent]]


def session_events(turns: int) -> list[events.SessionEvent]:
    session = Session(Agent(name="Bench", instructions="Be brief."))
    session.handle(inputs.Connected(), now=0.0)
    out: list[events.SessionEvent] = []
    for frame in conversation(turns):
        out += [o for o in session.handle(frame) if isinstance(o, events.SessionEvent)]
    return out


class BareQueue:
    """The floor: the same interface over one unbounded deque, no bookkeeping."""

    def __init__(self) -> None:
        self.queue: deque[events.SessionEvent] = deque()
        self.deliver = self.queue.append

    @property
    def buffered(self) -> int:
        return len(self.queue)

    async def __anext__(self) -> events.SessionEvent:
        return self.queue.popleft()


def read(subscription: Subscription | BareQueue) -> events.SessionEvent:
    coroutine: Coroutine[Any, Any, events.SessionEvent] = subscription.__anext__()
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    raise RuntimeError("nothing buffered")  # pragma: no cover


def timed(kind: type[Subscription | BareQueue], batches: Batches, reads: bool) -> float:
    subscription = kind()
    deliver = subscription.deliver
    start = time.perf_counter()
    for batch in batches:
        for event in batch:
            deliver(event)
        if reads:
            for _ in range(subscription.buffered):  # an interruption may take audio out
                read(subscription)
    return time.perf_counter() - start


def measure(label: str, batches: Batches, reads: bool, repeat: int) -> None:
    best = {Subscription: float("inf"), BareQueue: float("inf")}
    for _ in range(repeat):  # interleaved, so that noise hits both alike
        for kind, fastest in best.items():
            best[kind] = min(fastest, timed(kind, batches, reads))
    count = sum(map(len, batches))
    base, ours = best[BareQueue] * 1e6 / count, best[Subscription] * 1e6 / count
    print(
        f"{label:<20} {count:>7,} events  floor {base:5.2f} us/event  "
        f"subscription {ours:5.2f} us/event  {ours / base:4.1f}x"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    stream = session_events(args.turns)
    per_turn = len(stream) // args.turns
    print(f"python {sys.version.split()[0]}; floor = a bare deque behind the same interface")
    measure("keeps up", [[event] for event in stream], True, args.repeat)
    turns = [stream[i : i + per_turn] for i in range(0, len(stream), per_turn)]
    measure("lags a turn behind", turns, True, args.repeat)
    measure("never reads", [stream], False, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
