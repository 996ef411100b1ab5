"""Microseconds per session event for a subscription's ``deliver`` plus its read, beside the
floor measured in the same run: a bare ``deque`` append and ``popleft`` of the same events.

    python bench/subscriptions.py [--turns N] [--repeat R]

The events are what a ``Session`` makes of bench/codec.py's conversation (100 ms audio deltas
with their transcript deltas, a ``RawModelEvent`` for every server event, tool calls, usage).
Three regimes: a reader that keeps up (one event delivered, one read), a reader that lags a
whole turn behind (a turn delivered, then read), and a reader that never reads (every event
delivered into a full subscription: raw events over ``max_raw`` are dropped, the oldest
first). Reads drive the ``__anext__`` coroutine by hand: nothing is awaited while events are
buffered, so no event loop is needed and none is measured.

One run (Python 3.11, a 2-CPU container shared with other work):

    keeps up              8,640 events  floor  0.18 us/event  subscription  1.05 us/event  5.8x
    lags a turn behind    8,640 events  floor  0.05 us/event  subscription  0.83 us/event  16.6x
    never reads           8,640 events  floor  0.03 us/event  subscription  0.56 us/event  18.7x

Reading: about 1 us per event, against about 95 us per frame for the whole client stack
(bench/transport.py); the bookkeeping that keeps audio, raw and other events apart and in
order costs a few tenths of a microsecond more than the one undivided queue it replaced
(0.73 us/event keeping up, measured the same way), whose full-buffer path scanned the buffer
and cost 4.9 us/event.
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
    print(f"python {sys.version.split()[0]}; floor = deque append + popleft of the same events")
    measure("keeps up", [[event] for event in stream], True, args.repeat)
    turns = [stream[i : i + per_turn] for i in range(0, len(stream), per_turn)]
    measure("lags a turn behind", turns, True, args.repeat)
    measure("never reads", [stream], False, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
