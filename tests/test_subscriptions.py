"""Subscriber buffers: audio bounded in seconds (oldest dropped), raw events bounded apart
(oldest dropped first), everything else never dropped; every drop reported in the stream."""

from __future__ import annotations

import warnings
from collections.abc import Coroutine
from typing import Any

import anyio
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from realtime_sansio.protocol import PCM16, PCMU, events, wire
from realtime_sansio.transports.subscriptions import (
    DEFAULT_MAX_AUDIO_S,
    DEFAULT_MAX_EVENTS,
    SlowSubscriberError,
    Subscription,
)

MS = PCM16.bytes_per_second // 1000  # 48 bytes of 24 kHz PCM16 per millisecond


def audio(n: int, *, ms: int = 100, item: str = "i") -> events.AudioEvent:
    return events.AudioEvent(
        data=bytes([n % 256]) * (ms * MS), response_id="r", item_id=item, content_index=0
    )


def other(n: int) -> events.ErrorEvent:
    return events.ErrorEvent(code=str(n), message="m")


def raw(n: int, kind: str = "rate_limits.updated") -> events.RawModelEvent:
    return events.RawModelEvent(data=wire.UnknownServerEvent(type=kind, raw={"n": n}))


def interrupted(item: str) -> events.AudioInterruptedEvent:
    return events.AudioInterruptedEvent(
        response_id="r", item_id=item, content_index=0, audio_end_ms=0
    )


def dropped_audio(count: int, ms: float, *items: str) -> events.EventsDroppedEvent:
    return events.EventsDroppedEvent(kind="audio", count=count, audio_ms=ms, item_ids=items)


def dropped_raw(count: int, *types: str) -> events.EventsDroppedEvent:
    return events.EventsDroppedEvent(kind="raw", count=count, event_types=types)


def read_now(subscription: Subscription) -> events.SessionEvent:
    """The next event of a subscription that has one buffered (no loop needed: no wait)."""
    assert subscription.buffered
    coroutine: Coroutine[Any, Any, events.SessionEvent] = subscription.__anext__()
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    raise AssertionError("a subscription with events buffered waited")  # pragma: no cover


def read_all(subscription: Subscription) -> list[events.SessionEvent]:
    out = []
    while subscription.buffered:
        out.append(read_now(subscription))
    return out


def feed(subscription: Subscription, *events_: events.SessionEvent) -> Subscription:
    for event in events_:
        subscription.deliver(event)
    return subscription


# -- within the bounds -------------------------------------------------------------------------


def test_everything_is_delivered_in_order_while_there_is_room() -> None:
    stream = [raw(0), audio(1), other(2), raw(3), audio(4), interrupted("x"), other(5)]
    sub = feed(Subscription(), *stream)
    assert read_all(sub) == stream
    assert sub.dropped_audio == sub.dropped_raw == 0


def test_the_defaults_hold_a_15_minute_backlog_and_a_delta_per_40_ms_chunk() -> None:
    sub = Subscription()
    assert (sub.max_audio_s, sub.max_events) == (DEFAULT_MAX_AUDIO_S, DEFAULT_MAX_EVENTS)
    assert DEFAULT_MAX_AUDIO_S >= 900 and DEFAULT_MAX_EVENTS >= 900 * 1000 // 40
    chunk = audio(0, ms=1000)
    for _ in range(900):
        sub.deliver(chunk)
    assert sub.buffered_audio_s == pytest.approx(900) and sub.dropped_audio == 0


# -- audio: bounded in seconds, the oldest dropped ------------------------------------------


def test_audio_over_its_bound_drops_the_oldest_and_reports_it_where_it_was() -> None:
    sub = Subscription(max_audio_s=0.3)
    for n in range(5):  # 100 ms each, a transcript piece beside each
        feed(sub, audio(n), other(n))
    assert read_all(sub) == [
        dropped_audio(2, 200.0, "i"),
        other(0),
        other(1),
        audio(2),
        other(2),
        audio(3),
        other(3),
        audio(4),
        other(4),
    ]
    assert sub.dropped_audio == 2


def test_the_audio_bound_counts_seconds_in_the_current_output_format() -> None:
    formats = [PCMU]
    sub = Subscription(max_audio_s=1.0, audio_format=lambda: formats[0])
    g711 = events.AudioEvent(data=bytes(8000), response_id="r", item_id="g", content_index=0)
    feed(sub, g711)  # 8,000 bytes of G.711: one second, the whole bound
    assert sub.buffered_audio_s == pytest.approx(1.0) and sub.dropped_audio == 0
    formats[0] = PCM16
    feed(sub, audio(1, ms=500))  # 24,000 bytes of PCM16: half a second
    assert read_all(sub) == [dropped_audio(1, 1000.0, "g"), audio(1, ms=500)]


def test_a_fixed_format_can_be_given() -> None:
    sub = feed(Subscription(audio_format=PCMU), audio(0, ms=10))  # 480 bytes: 60 ms of G.711
    assert sub.buffered_audio_s == pytest.approx(0.06)


def test_a_chunk_longer_than_the_whole_bound_is_dropped_too() -> None:
    sub = feed(Subscription(max_audio_s=0.05), other(0), audio(1), other(2))
    assert read_all(sub) == [other(0), dropped_audio(1, 100.0, "i"), other(2)]


# -- raw events: their own bound, the first to go --------------------------------------------


def test_raw_events_can_be_left_out() -> None:
    sub = feed(Subscription(raw=False), raw(0), other(1), raw(2), audio(3))
    assert read_all(sub) == [other(1), audio(3)]
    assert sub.dropped_raw == 0


def test_raw_events_over_their_bound_drop_the_oldest_and_say_which_types() -> None:
    sub = Subscription(max_raw=2)
    feed(sub, raw(0, "a"), audio(1), raw(2, "b"), other(3), raw(4, "a"), raw(5, "c"))
    assert read_all(sub) == [
        dropped_raw(2, "a", "b"),
        audio(1),
        other(3),
        raw(4, "a"),
        raw(5, "c"),
    ]
    assert sub.dropped_raw == 2


def test_raw_events_never_push_out_audio_or_other_events() -> None:
    sub = Subscription(max_events=10, max_audio_s=1.0, max_raw=1)
    kept: list[events.SessionEvent] = []
    for n in range(10):
        kept += [audio(n), other(n)]
        feed(sub, raw(n), audio(n), other(n))
    assert read_all(sub) == [dropped_raw(9, "rate_limits.updated"), *kept[:-2], raw(9), *kept[-2:]]
    assert sub.dropped_audio == 0 and sub.dropped_raw == 9


# -- reports: coalesced, never counted against a bound -------------------------------------


def test_consecutive_drops_make_one_report_until_it_is_read() -> None:
    sub = Subscription(max_audio_s=0.1, max_raw=1)
    for n in range(1000):
        feed(sub, audio(n, item=f"i{n // 100}"), raw(n))
    assert sub.buffered == 4  # two reports, the last chunk, the last raw event
    names = tuple(f"i{n}" for n in range(10))
    assert read_all(sub) == [
        dropped_audio(999, 99900.0, *names),
        dropped_raw(999, "rate_limits.updated"),
        audio(999, item="i9"),
        raw(999),
    ]
    # Once a report is read, the next drop makes a new one.
    feed(sub, audio(1000, item="j"), raw(1000), audio(1001, item="j"), raw(1001))
    assert read_all(sub) == [
        dropped_audio(1, 100.0, "j"),
        dropped_raw(1, "rate_limits.updated"),
        audio(1001, item="j"),
        raw(1001),
    ]


def test_a_report_names_at_most_16_items_but_counts_them_all() -> None:
    sub = Subscription(max_audio_s=0.1)
    for n in range(41):
        sub.deliver(audio(n, item=f"item{n}"))
    report = read_now(sub)
    assert isinstance(report, events.EventsDroppedEvent)
    assert report.item_ids == tuple(f"item{n}" for n in range(16))
    assert (report.count, report.audio_ms) == (40, 4000.0)


def test_reports_do_not_count_against_the_bound_of_other_events() -> None:
    sub = Subscription(max_events=1, max_audio_s=0.1, max_raw=1)
    feed(sub, other(0), audio(1), audio(2), raw(3), raw(4))
    assert read_all(sub) == [
        other(0),
        dropped_audio(1, 100.0, "i"),
        audio(2),
        dropped_raw(1, "rate_limits.updated"),
        raw(4),
    ]


# -- other events: never dropped ---------------------------------------------------------------


@pytest.mark.anyio
async def test_a_subscriber_too_slow_for_other_events_gets_what_was_buffered_then_an_error() -> (
    None
):
    sub = feed(Subscription(max_events=2), other(0), audio(1), raw(2), other(3), other(4))
    feed(sub, other(5), audio(6))  # after the failure nothing more is buffered
    received = []
    with pytest.raises(SlowSubscriberError, match="2 events behind"):
        async for event in sub:
            received.append(event)
    assert received == [other(0), audio(1), raw(2), other(3)]
    assert sub.ended


# -- an interruption takes its item's audio out ----------------------------------------------


def test_an_interruption_takes_the_audio_of_its_item_out_unreported() -> None:
    sub = Subscription()
    feed(sub, audio(0, item="a"), other(1), audio(2, item="b"), audio(3, item="b"), other(4))
    feed(sub, interrupted("b"), audio(5, item="c"))
    assert sub.buffered_audio_s == pytest.approx(0.2)
    assert read_all(sub) == [
        audio(0, item="a"),
        other(1),
        other(4),
        interrupted("b"),
        audio(5, item="c"),
    ]
    assert sub.dropped_audio == 0


def test_an_interrupted_item_among_much_other_audio_is_skipped_when_reached() -> None:
    sub = Subscription()
    chunks = [audio(n, item="a") for n in range(10)]
    feed(sub, *chunks[:5], audio(99, item="b"), *chunks[5:], interrupted("b"))
    assert sub.buffered == 11
    assert read_all(sub) == [*chunks, interrupted("b")]


def test_a_drop_that_uncovers_an_interrupted_items_audio_skips_it() -> None:
    sub = Subscription(max_audio_s=0.3)
    feed(sub, audio(0, item="a"), audio(1, item="b"), audio(2, item="a"), audio(3, item="a"))
    feed(sub, interrupted("b"), audio(4, item="a"))  # "b" lazily skipped; audio(0) dropped
    assert read_all(sub) == [
        dropped_audio(1, 100.0, "a"),
        audio(2, item="a"),
        audio(3, item="a"),
        interrupted("b"),
        audio(4, item="a"),
    ]


def test_the_audio_taken_out_frees_its_room_at_once() -> None:
    sub = Subscription(max_audio_s=0.3)
    feed(sub, audio(0, item="a"), audio(1, item="b"), audio(2, item="b"), other(3))
    feed(sub, interrupted("b"), audio(4, item="c"), audio(5, item="c"))
    assert read_all(sub) == [
        audio(0, item="a"),
        other(3),
        interrupted("b"),
        audio(4, item="c"),
        audio(5, item="c"),
    ]
    assert sub.dropped_audio == 0


def test_audio_of_the_item_after_its_interruption_is_kept() -> None:
    sub = feed(Subscription(), audio(0, item="a"), interrupted("a"), audio(1, item="a"))
    assert read_all(sub) == [interrupted("a"), audio(1, item="a")]


# -- waiting and ending ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_next_waits_for_an_event_or_times_out() -> None:
    sub = Subscription()
    with pytest.raises(TimeoutError):
        await sub.next(timeout=0.01)
    sub.deliver(other(7))
    assert await sub.next(timeout=1) == other(7)


@pytest.mark.anyio
async def test_a_waiting_reader_is_woken_by_a_drop_report_too() -> None:
    sub = Subscription(max_audio_s=0.05)
    got: list[events.SessionEvent] = []

    async def reader() -> None:
        got.append(await sub.next(timeout=5))

    async with anyio.create_task_group() as tg:
        tg.start_soon(reader)
        await anyio.wait_all_tasks_blocked()
        sub.deliver(audio(0))
    assert got == [dropped_audio(1, 100.0, "i")]


@pytest.mark.anyio
async def test_a_reader_that_gives_up_does_not_leave_another_waiting_forever() -> None:
    sub = Subscription()
    got: list[events.SessionEvent] = []

    async def patient() -> None:
        got.append(await sub.next(timeout=5))

    async with anyio.create_task_group() as tg:
        tg.start_soon(patient)
        with pytest.raises(TimeoutError):
            await sub.next(timeout=0.01)  # gives up while `patient` waits on
        sub.deliver(other(1))
    assert got == [other(1)]


@pytest.mark.anyio
async def test_an_ended_subscription_gives_what_is_buffered_then_stops() -> None:
    sub = feed(Subscription(max_audio_s=0.1), audio(0), audio(1), other(2))
    sub.end()
    sub.deliver(other(3))
    assert not sub.ended
    assert [event async for event in sub] == [dropped_audio(1, 100.0, "i"), audio(1), other(2)]
    assert sub.ended


# -- the arguments -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "8", None])
@pytest.mark.parametrize("name", ["max_events", "max_raw"])
def test_event_bounds_are_whole_numbers_of_at_least_one(name: str, value: Any) -> None:
    with pytest.raises(ValueError, match=f"{name} must be a whole number of events"):
        Subscription(**{name: value})


@pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf"), True, "1", None])
def test_the_audio_bound_is_a_number_of_seconds_above_zero(value: Any) -> None:
    with pytest.raises(ValueError, match="max_audio_s must be a number of seconds above 0"):
        Subscription(max_audio_s=value)


def test_raw_is_true_or_false() -> None:
    with pytest.raises(ValueError, match="raw must be True or False"):
        Subscription(raw="no")  # type: ignore[arg-type]


def test_max_buffer_is_the_former_name_of_max_events() -> None:
    with pytest.warns(DeprecationWarning, match="max_events"):
        sub = Subscription(max_buffer=7)
    assert sub.max_events == sub.max_buffer == 7
    with pytest.raises(ValueError, match="max_buffer must be a whole number"):
        Subscription(max_buffer=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Subscription(7).max_events == 7  # the positional form needs no new name


# -- the policy against a reference -----------------------------------------------------------


class Reference:
    """The policy as plainly as it can be said: one list, scanned."""

    def __init__(self, max_events: int, max_audio_ms: int, max_raw: int, raw: bool) -> None:
        self.limits = (max_events, max_audio_ms, max_raw)
        self.raw = raw
        self.buffer: list[Any] = []  # events, and unread reports as [kind, count, ms, names]
        self.failed = False

    @staticmethod
    def kind(entry: Any) -> str:
        if isinstance(entry, list):
            return "report"
        if isinstance(entry, events.AudioEvent):
            return "audio"
        return "raw" if isinstance(entry, events.RawModelEvent) else "other"

    def count(self, kind: str) -> int:
        return sum(self.kind(entry) == kind for entry in self.buffer)

    def audio_ms(self) -> int:
        return sum(len(e.data) // MS for e in self.buffer if self.kind(e) == "audio")

    def deliver(self, event: events.SessionEvent) -> None:
        max_events, max_audio_ms, max_raw = self.limits
        kind = self.kind(event)
        if self.failed or (kind == "raw" and not self.raw):
            return
        if kind == "other" and self.count("other") >= max_events:
            self.failed = True
            return
        if isinstance(event, events.AudioInterruptedEvent):
            self.buffer = [
                e
                for e in self.buffer
                if not (self.kind(e) == "audio" and e.item_id == event.item_id)
            ]
        self.buffer.append(event)
        while kind == "audio" and self.audio_ms() > max_audio_ms:
            self.drop_oldest("audio")
        if kind == "raw" and self.count("raw") > max_raw:
            self.drop_oldest("raw")

    def drop_oldest(self, kind: str) -> None:
        index = next(i for i, e in enumerate(self.buffer) if self.kind(e) == kind)
        event = self.buffer[index]
        name, ms = (
            (event.item_id, len(event.data) // MS) if kind == "audio" else (event.data.type, 0)
        )
        report = next((e for e in self.buffer if isinstance(e, list) and e[0] == kind), None)
        if report is None:
            self.buffer[index] = [kind, 1, ms, [name]]  # where the loss happened
            return
        del self.buffer[index]
        report[1] += 1
        report[2] += ms
        if name not in report[3] and len(report[3]) < 16:
            report[3].append(name)

    def read(self) -> events.SessionEvent:
        entry = self.buffer.pop(0)
        if not isinstance(entry, list):
            return entry  # type: ignore[no-any-return]
        kind, count, ms, names = entry
        if kind == "audio":
            return dropped_audio(count, float(ms), *names)
        return dropped_raw(count, *names)


ITEMS = st.sampled_from(["a", "b", "c"])


class SubscriptionMachine(RuleBasedStateMachine):
    """Any interleaving of deliveries and reads: the subscription does what the reference does."""

    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    @initialize(
        max_events=st.integers(1, 12),
        max_audio_ms=st.integers(1, 1000),
        max_raw=st.integers(1, 4),
        keep_raw=st.booleans(),
    )
    def start(self, max_events: int, max_audio_ms: int, max_raw: int, keep_raw: bool) -> None:
        self.sub = Subscription(
            max_events, max_audio_s=max_audio_ms / 1000, max_raw=max_raw, raw=keep_raw
        )
        self.ref = Reference(max_events, max_audio_ms, max_raw, keep_raw)

    def both(self, event: events.SessionEvent) -> None:
        self.n += 1
        self.sub.deliver(event)
        self.ref.deliver(event)

    @rule(item=ITEMS, ms=st.sampled_from([1, 40, 100, 250]))
    def deliver_audio(self, item: str, ms: int) -> None:
        self.both(audio(self.n, ms=ms, item=item))

    @rule(kind=st.sampled_from(["rate_limits.updated", "response.output_audio.delta"]))
    def deliver_raw(self, kind: str) -> None:
        self.both(raw(self.n, kind))

    @rule()
    def deliver_other(self) -> None:
        self.both(other(self.n))

    @rule(item=ITEMS)
    def interrupt(self, item: str) -> None:
        self.both(interrupted(item))

    @rule(times=st.integers(1, 5))
    def read(self, times: int) -> None:
        for _ in range(min(times, len(self.ref.buffer))):
            assert read_now(self.sub) == self.ref.read()

    @invariant()
    def same_backlog(self) -> None:
        if hasattr(self, "sub"):
            assert self.sub.buffered == len(self.ref.buffer)
            assert round(self.sub.buffered_audio_s * 1000) == self.ref.audio_ms()
            assert self.sub.ended == (self.ref.failed and not self.ref.buffer)


TestSubscriptionPolicy = SubscriptionMachine.TestCase
TestSubscriptionPolicy.settings = settings(max_examples=100, stateful_step_count=30)
