"""Bounded per-subscriber event buffers with a stated overflow policy.

A subscriber that reads slower than events arrive must not grow memory without bound, and
must not lose events it cannot do without. The policy, per subscription of ``max_buffer``
events (default ``DEFAULT_SUBSCRIBER_BUFFER``):

- while there is room, every event is buffered;
- when full, an ``AudioEvent`` is dropped (audio is replaceable by definition: a listener who
  fell behind cannot hear the past) and counted in ``dropped_audio``;
- when full and the event is not audio, the oldest buffered audio event makes room for it; if
  there is none, the subscription fails: the subscriber gets the events buffered so far, then
  ``SlowSubscriberError`` from its next read. Nothing is dropped silently.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator

import anyio
from realtime_sansio.protocol import events

__all__ = ["DEFAULT_SUBSCRIBER_BUFFER", "SlowSubscriberError", "Subscription"]

DEFAULT_SUBSCRIBER_BUFFER = 4096
"""Events a subscriber may fall behind by: about 400 s of 100 ms audio deltas."""


class SlowSubscriberError(Exception):
    """The subscriber fell ``max_buffer`` non-audio events behind; its subscription ended."""


class Subscription:
    """One subscriber's view of a session's events: ``async for event in subscription``."""

    def __init__(self, max_buffer: int = DEFAULT_SUBSCRIBER_BUFFER) -> None:
        if max_buffer < 1:
            raise ValueError(f"max_buffer must be at least 1, got {max_buffer}")
        self.max_buffer = max_buffer
        self.dropped_audio = 0
        self._buffer: deque[events.SessionEvent] = deque()
        self._audio = 0  # audio events in the buffer: eviction needs none when zero
        self._wakeup = anyio.Event()
        self._ended = False
        self._failure: SlowSubscriberError | None = None

    def deliver(self, event: events.SessionEvent) -> None:
        """Buffer one event (synchronous: the driver's loop never waits on a subscriber)."""
        if self._ended:
            return
        is_audio = isinstance(event, events.AudioEvent)
        if len(self._buffer) >= self.max_buffer:
            if is_audio:
                self.dropped_audio += 1
                return
            if not self._evict_audio():
                self._failure = SlowSubscriberError(
                    f"the subscriber fell {self.max_buffer} events behind; it was dropped "
                    f"before {type(event).__name__} (subscribe(max_buffer=...) raises the bound)"
                )
                self._ended = True
                self._wakeup.set()
                return
        self._buffer.append(event)
        self._audio += is_audio
        self._wakeup.set()

    def _evict_audio(self) -> bool:
        if not self._audio:
            return False
        for index, buffered in enumerate(self._buffer):
            if isinstance(buffered, events.AudioEvent):
                del self._buffer[index]
                self._audio -= 1
                self.dropped_audio += 1
                return True
        return False  # pragma: no cover - the count says there is one

    def end(self) -> None:
        """No more events: readers finish once the buffer is empty."""
        self._ended = True
        self._wakeup.set()

    @property
    def ended(self) -> bool:
        return self._ended and not self._buffer

    def __aiter__(self) -> AsyncIterator[events.SessionEvent]:
        return self

    async def __anext__(self) -> events.SessionEvent:
        while not self._buffer:
            if self._failure is not None:
                raise self._failure
            if self._ended:
                raise StopAsyncIteration
            await self._wakeup.wait()
            self._wakeup = anyio.Event()
        event = self._buffer.popleft()
        self._audio -= isinstance(event, events.AudioEvent)
        return event

    async def next(self, timeout: float | None = None) -> events.SessionEvent:
        """The next event, or ``TimeoutError`` after ``timeout`` seconds."""
        with anyio.fail_after(timeout):
            return await self.__anext__()
