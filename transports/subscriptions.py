"""Bounded per-subscriber event buffers with a stated overflow policy.

A subscriber that reads slower than events arrive must not grow memory without bound, and
must not lose events it cannot do without. The server streams audio faster than real time
(the real API does), so a player that reads at real time falls behind by most of a long
reply: the buffer must hold that reply, and measure it in what it is, seconds of audio. Each
subscription therefore keeps three kinds of event apart, each with its own bound:

- **audio** (``AudioEvent``): ``max_audio_s`` seconds (default ``DEFAULT_MAX_AUDIO_S``, 900 s,
  at most 43.2 MB of 24 kHz PCM16 or 7.2 MB of G.711, held only while the subscriber lags).
  A chunk's duration comes from its length and the session's output format at the time it
  arrives. Over the bound, the **oldest** buffered audio is dropped: a real-time player that
  is that far behind should skip what is staler, not the end of the reply, and keep its lag
  (the delay between the model speaking and the user hearing it) at the bound instead of
  playing old audio and then a hole.
- **raw** (``RawModelEvent``, every server event as decoded): only if ``raw`` is true (the
  default, so that ``async for event in session`` still carries every server event), at most
  ``max_raw`` events (default ``DEFAULT_MAX_RAW``). They are the first to go: over the bound,
  the oldest raw event is dropped. They never push out audio or other events. A raw audio
  delta shares its bytes with its ``AudioEvent``, so raw events add little memory while the
  audio is still buffered.
- **everything else** (turns, tools, transcripts, history, errors...): ``max_events`` events
  (default ``DEFAULT_MAX_EVENTS``, room for a transcript delta beside each 40 ms audio chunk
  of the whole audio backlog). These are never dropped: a subscriber that falls that far
  behind gets the events buffered so far, then ``SlowSubscriberError`` from its next read
  (losing a tool call or the end of a turn silently is worse than stopping).

Every drop is reported in the stream itself, where the loss happened, as an
``EventsDroppedEvent`` (its kind, how many events, how much audio, which items or event
types). Consecutive drops of one kind make one report, which grows until it is read: a flood
of drops does not flood the buffer, and reports count against no bound. The totals are also
kept in ``dropped_audio`` and ``dropped_raw``.

An ``AudioInterruptedEvent`` removes the audio of its item still in the buffer: a player plays
in order, so it never played that audio, and the interruption tells it to stop anyway. The
subscriber reaches the interruption at once, not after the stale audio; this is not a loss
and is not reported.

Costs: ``deliver`` and a read are O(1) per event. The kinds wait in separate queues, each
entry with its arrival number; a read takes the lowest of the three heads. Drops take from a
queue's head; removing an interrupted item's audio marks it, and the marked entries are
skipped when they reach the head (or the queue is compacted once they are the majority), so
these are O(1) amortised too.
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Literal

import anyio
from realtime_sansio.protocol import PCM16, AudioFormat, events

__all__ = [
    "DEFAULT_MAX_AUDIO_S",
    "DEFAULT_MAX_EVENTS",
    "DEFAULT_MAX_RAW",
    "DEFAULT_SUBSCRIBER_BUFFER",
    "SlowSubscriberError",
    "Subscription",
    "check_max_events",
    "former_max_buffer",
]

DEFAULT_MAX_AUDIO_S = 900.0
"""Seconds of audio a subscriber may fall behind by: a 15-minute reply read at real time."""

DEFAULT_MAX_EVENTS = 32_768
"""Other events a subscriber may fall behind by: a transcript delta beside each of the 22,500
40 ms audio deltas of ``DEFAULT_MAX_AUDIO_S``, with room to spare."""

DEFAULT_MAX_RAW = 1024
"""Raw server events a subscriber may fall behind by before the oldest are dropped."""

DEFAULT_SUBSCRIBER_BUFFER = DEFAULT_MAX_EVENTS
"""The former name of ``DEFAULT_MAX_EVENTS``."""

MAX_NAMED = 16
"""Item ids or event types a drop report names (the first ones); its counts cover all."""

_NONE_BUFFERED = math.inf  # the arrival number of an empty queue's head


class SlowSubscriberError(Exception):
    """The subscriber fell ``max_events`` events behind (not counting audio and raw events,
    which are dropped instead); its subscription ended."""


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number of events, at least 1; got {value!r}")
    return value


def check_max_events(value: object, name: str = "max_events") -> int:
    """``value`` if it is a valid lifecycle-event bound, else ``ValueError`` naming ``name``."""
    return _check_count(name, value)


def former_max_buffer(value: object, caller: str) -> int:
    """``max_buffer``, the former name of ``max_events``: checked, and a warning for the
    caller of ``caller``."""
    checked = check_max_events(value, "max_buffer")
    warnings.warn(
        f"{caller}(max_buffer=...) is now max_events=...", DeprecationWarning, stacklevel=3
    )
    return checked


def _check_seconds(name: str, value: object) -> float:
    seconds = value if isinstance(value, float) else math.nan
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = float(min(value, 2**53))  # far past any session, and a float
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"{name} must be a number of seconds above 0; got {value!r}")
    return seconds


def _constant(fmt: AudioFormat) -> Callable[[], AudioFormat]:
    return lambda: fmt


class _Report:
    """A run of drops of one kind, not yet read: it grows until the subscriber reaches it."""

    __slots__ = ("audio_ns", "count", "kind", "names")

    def __init__(self, kind: Literal["audio", "raw"]) -> None:
        self.kind: Literal["audio", "raw"] = kind
        self.count = 0
        self.audio_ns = 0
        self.names: list[str] = []

    def add(self, name: str, audio_ns: int) -> None:
        self.count += 1
        self.audio_ns += audio_ns
        if len(self.names) < MAX_NAMED and name not in self.names:
            self.names.append(name)

    def event(self) -> events.EventsDroppedEvent:
        names = tuple(self.names)
        if self.kind == "audio":
            return events.EventsDroppedEvent(
                kind="audio", count=self.count, audio_ms=self.audio_ns / 1e6, item_ids=names
            )
        return events.EventsDroppedEvent(kind="raw", count=self.count, event_types=names)


class Subscription:
    """One subscriber's view of a session's events: ``async for event in subscription``.

    ``max_events`` bounds the events that are never dropped, ``max_audio_s`` the audio in
    seconds (the oldest dropped beyond it), ``max_raw`` the raw server events (the oldest
    dropped beyond it; none are buffered with ``raw=False``). ``audio_format`` is the format of
    the audio, or a function giving the current one (the runner passes the session's).
    ``max_buffer`` is the former name of ``max_events``. ``ValueError`` names a wrong bound.
    """

    def __init__(
        self,
        max_events: int = DEFAULT_MAX_EVENTS,
        *,
        max_audio_s: float = DEFAULT_MAX_AUDIO_S,
        raw: bool = True,
        max_raw: int = DEFAULT_MAX_RAW,
        audio_format: AudioFormat | Callable[[], AudioFormat] = PCM16,
        max_buffer: int | None = None,
    ) -> None:
        if max_buffer is not None:
            max_events = former_max_buffer(max_buffer, "Subscription")
        self.max_events = check_max_events(max_events)
        self.max_audio_s = _check_seconds("max_audio_s", max_audio_s)
        self.max_raw = _check_count("max_raw", max_raw)
        if not isinstance(raw, bool):
            raise ValueError(f"raw must be True or False; got {raw!r}")
        self.raw = raw
        self._audio_format: Callable[[], AudioFormat] = (
            _constant(audio_format) if isinstance(audio_format, AudioFormat) else audio_format
        )
        self._format: AudioFormat | None = None
        self._ns_per_byte = 0.0
        self._max_audio_ns = round(self.max_audio_s * 1e9)
        self._seq = 0  # arrival numbers: a read takes the lowest of the three queues' heads
        self._events: deque[tuple[int, events.SessionEvent]] = deque()
        # Audio: entries (arrival, event, nanoseconds), the nanoseconds buffered, and per item
        # [entries, nanoseconds] so that an interruption frees its item's audio without a scan.
        self._audio: deque[tuple[int, events.AudioEvent, int]] = deque()
        self._audio_ns = 0
        self._items: dict[str, list[int]] = {}
        # An interrupted item's entries stay until they reach the head (or the queue is
        # rebuilt once they are the majority): how many of its oldest entries to skip.
        self._voided: dict[str, int] = {}
        self._voided_total = 0
        self._raw: deque[tuple[int, events.RawModelEvent]] = deque()
        # The drops not yet read, reported where the first of them stood; and the arrival
        # number of each droppable queue's next read, its report's or its head's.
        self._audio_report: _Report | None = None
        self._raw_report: _Report | None = None
        self._audio_first: float = _NONE_BUFFERED
        self._raw_first: float = _NONE_BUFFERED
        self.dropped_audio = 0
        """Audio events dropped so far (each drop is also reported in the stream)."""
        self.dropped_raw = 0
        """Raw events dropped so far (each drop is also reported in the stream)."""
        self._wakeup = anyio.Event()
        # The loop's own Event class: a new one per wait, without anyio's backend lookup.
        self._new_event: Callable[[], anyio.Event] = type(self._wakeup)
        self._waiting = 0  # readers waiting on _wakeup: only then is it set
        self._ended = False
        self._failure: SlowSubscriberError | None = None

    @property
    def max_buffer(self) -> int:
        """The former name of ``max_events``."""
        return self.max_events

    # -- buffering ------------------------------------------------------------------------

    def deliver(self, event: events.SessionEvent) -> None:
        """Buffer one event (synchronous: the driver's loop never waits on a subscriber)."""
        if self._ended:
            return
        seq = self._seq = self._seq + 1
        if isinstance(event, events.AudioEvent):
            self._buffer_audio(seq, event)
        elif isinstance(event, events.RawModelEvent):
            if not self.raw:
                return
            raw = self._raw
            if not raw and self._raw_report is None:
                self._raw_first = seq
            raw.append((seq, event))
            if len(raw) > self.max_raw:
                self._drop_raw()
        elif len(self._events) < self.max_events:
            if isinstance(event, events.AudioInterruptedEvent):
                self._void(event.item_id)
            self._events.append((seq, event))
        else:
            self._failure = SlowSubscriberError(
                f"the subscriber fell {self.max_events} events behind (audio and raw events "
                f"not counted); it was dropped before {type(event).__name__} "
                "(subscribe(max_events=...) raises the bound)"
            )
            self._ended = True
        if self._waiting:
            self._wakeup.set()

    def _buffer_audio(self, seq: int, event: events.AudioEvent) -> None:
        fmt = self._audio_format()
        if fmt is not self._format:
            self._format = fmt
            self._ns_per_byte = 1e9 / fmt.bytes_per_second
        ns = round(len(event.data) * self._ns_per_byte)
        audio = self._audio
        if not audio and self._audio_report is None:
            self._audio_first = seq
        audio.append((seq, event, ns))
        self._audio_ns += ns
        counts = self._items.get(event.item_id)
        if counts is None:
            self._items[event.item_id] = [1, ns]
        else:
            counts[0] += 1
            counts[1] += ns
        while self._audio_ns > self._max_audio_ns:
            self._drop_audio()  # the new chunk too, if it alone is over the bound

    def _drop_audio(self) -> None:
        seq, event, ns = self._audio.popleft()  # live: voided entries never stay at the head
        self._forget(event.item_id, ns)
        self.dropped_audio += 1
        report = self._audio_report
        if report is None:
            report = self._audio_report = _Report("audio")
            self._audio_first = seq
        report.add(event.item_id, ns)
        if self._voided_total:
            self._skip_voided()

    def _drop_raw(self) -> None:
        seq, event = self._raw.popleft()
        self.dropped_raw += 1
        report = self._raw_report
        if report is None:
            report = self._raw_report = _Report("raw")
            self._raw_first = seq
        report.add(event.data.type, 0)

    def _forget(self, item_id: str, ns: int) -> None:
        """One entry of the item's audio left the buffer (heard or dropped)."""
        self._audio_ns -= ns
        counts = self._items[item_id]
        if counts[0] == 1:
            del self._items[item_id]
        else:
            counts[0] -= 1
            counts[1] -= ns

    def _void(self, item_id: str) -> None:
        """The item was interrupted: its buffered audio will never be heard."""
        counts = self._items.pop(item_id, None)
        if counts is None:
            return
        self._audio_ns -= counts[1]
        self._voided[item_id] = self._voided.get(item_id, 0) + counts[0]
        self._voided_total += counts[0]
        if 2 * self._voided_total >= len(self._audio):
            self._compact()
        else:
            self._skip_voided()
        if self._audio_report is None:
            self._audio_first = self._audio[0][0] if self._audio else _NONE_BUFFERED

    def _skip_voided(self) -> None:
        audio, voided = self._audio, self._voided
        while audio:
            item_id = audio[0][1].item_id
            left = voided.get(item_id)
            if left is None:
                return
            audio.popleft()
            self._voided_total -= 1
            if left == 1:
                del voided[item_id]
            else:
                voided[item_id] = left - 1

    def _compact(self) -> None:
        kept: deque[tuple[int, events.AudioEvent, int]] = deque()
        voided = self._voided
        for entry in self._audio:
            item_id = entry[1].item_id
            left = voided.get(item_id)
            if left is None:
                kept.append(entry)
            elif left == 1:
                del voided[item_id]
            else:
                voided[item_id] = left - 1
        self._audio = kept
        self._voided_total = 0

    def end(self) -> None:
        """No more events: readers finish once the buffer is empty."""
        self._ended = True
        self._wakeup.set()

    # -- reading --------------------------------------------------------------------------

    @property
    def buffered(self) -> int:
        """Events a reader gets without waiting (drop reports included)."""
        return (
            len(self._events)
            + len(self._audio)
            - self._voided_total
            + len(self._raw)
            + (self._audio_report is not None)
            + (self._raw_report is not None)
        )

    @property
    def buffered_audio_s(self) -> float:
        """Seconds of audio waiting to be read: how far behind a player reading this is."""
        return self._audio_ns / 1e9

    @property
    def ended(self) -> bool:
        """No more events will come, and none are left to read."""
        return self._ended and not self.buffered

    def _take_audio(self) -> events.SessionEvent:
        audio = self._audio
        report = self._audio_report
        if report is not None:
            self._audio_report = None
            taken: events.SessionEvent = report.event()
        else:
            _, taken, ns = audio.popleft()
            self._forget(taken.item_id, ns)
            if self._voided_total:
                self._skip_voided()
        self._audio_first = audio[0][0] if audio else _NONE_BUFFERED
        return taken

    def _take_raw(self) -> events.SessionEvent:
        raw = self._raw
        report = self._raw_report
        if report is not None:
            self._raw_report = None
            taken: events.SessionEvent = report.event()
        else:
            taken = raw.popleft()[1]
        self._raw_first = raw[0][0] if raw else _NONE_BUFFERED
        return taken

    def __aiter__(self) -> AsyncIterator[events.SessionEvent]:
        return self

    async def __anext__(self) -> events.SessionEvent:
        while True:
            # The next in arrival order: the lowest of the three queues' next numbers.
            lifecycle = self._events
            first = lifecycle[0][0] if lifecycle else _NONE_BUFFERED
            audio_first = self._audio_first
            if audio_first < first and audio_first < self._raw_first:
                return self._take_audio()
            if self._raw_first < first:
                return self._take_raw()
            if lifecycle:
                return lifecycle.popleft()[1]
            if self._failure is not None:
                raise self._failure
            if self._ended:
                raise StopAsyncIteration
            self._waiting += 1
            try:
                await self._wakeup.wait()
            finally:
                self._waiting -= 1
            self._wakeup = self._new_event()

    async def next(self, timeout: float | None = None) -> events.SessionEvent:
        """The next event, or ``TimeoutError`` after ``timeout`` seconds."""
        with anyio.fail_after(timeout):
            return await self.__anext__()
