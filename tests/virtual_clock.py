"""A virtual clock on both loops, so a test of minutes of real time costs only its CPU.

trio has one: ``trio.testing.MockClock(autojump_threshold=0)`` jumps to the next deadline as
soon as every task is blocked. asyncio has none; ``virtual_event_loop`` builds the same thing:
an event loop whose ``time()`` is virtual, and whose selector, when no I/O is ready and the
loop would wait for its next timer, moves the time forward to that timer instead of sleeping.
I/O still works (the selector polls it first), and a loop with no timer at all waits for I/O
as usual. A worker thread is invisible to either clock: time may jump to the next deadline
while a thread works, so tests on a virtual clock give the runner async user functions.

Use ``VIRTUAL_CLOCK_BACKENDS`` as the ``anyio_backend`` fixture's params::

    @pytest.fixture(params=VIRTUAL_CLOCK_BACKENDS)
    def anyio_backend(request: pytest.FixtureRequest) -> object:
        return virtual_clock_backend(request.param)
"""

from __future__ import annotations

import asyncio
import selectors
from typing import Any

import trio.testing

__all__ = ["VIRTUAL_CLOCK_BACKENDS", "virtual_clock_backend", "virtual_event_loop"]

VIRTUAL_CLOCK_BACKENDS = ["asyncio", "trio"]


class _VirtualTime:
    __slots__ = ("now",)

    def __init__(self) -> None:
        self.now = 0.0


class _JumpingSelector(selectors.DefaultSelector):
    """Polls; when nothing is ready, jumps the virtual time by the timeout it was given."""

    def __init__(self, time: _VirtualTime) -> None:
        super().__init__()
        self._time = time

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready: list[tuple[selectors.SelectorKey, int]] = super().select(0)
        if ready or (timeout is not None and timeout <= 0):
            return ready
        if timeout is None:  # no timer at all: only I/O can wake the loop
            return super().select(None)
        self._time.now += timeout
        return []


class _VirtualEventLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self._virtual = _VirtualTime()
        super().__init__(_JumpingSelector(self._virtual))

    def time(self) -> float:
        return self._virtual.now


def virtual_event_loop() -> asyncio.AbstractEventLoop:
    """An asyncio event loop on virtual time, starting at 0 (a ``loop_factory``)."""
    return _VirtualEventLoop()


def virtual_clock_backend(name: str) -> tuple[str, dict[str, Any]]:
    """The ``anyio_backend`` value for ``name`` on a fresh virtual clock."""
    if name == "asyncio":
        return "asyncio", {"loop_factory": virtual_event_loop}
    return "trio", {"clock": trio.testing.MockClock(autojump_threshold=0)}
