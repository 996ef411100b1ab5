"""Bounded subscriber buffers: audio gives way, other events are never dropped silently."""

from __future__ import annotations

import anyio
import pytest
from realtime_sansio.protocol import events
from realtime_sansio.transports.subscriptions import SlowSubscriberError, Subscription

pytestmark = pytest.mark.anyio


def audio(n: int) -> events.AudioEvent:
    return events.AudioEvent(data=bytes([n]), response_id="r", item_id="i", content_index=0)


def other(n: int) -> events.ErrorEvent:
    return events.ErrorEvent(code=str(n), message="m")


async def drain(subscription: Subscription) -> list[events.SessionEvent]:
    out: list[events.SessionEvent] = []
    with anyio.fail_after(2):
        async for event in subscription:
            out.append(event)
    return out


async def test_everything_is_delivered_while_there_is_room() -> None:
    sub = Subscription(max_buffer=4)
    for event in (audio(1), other(2), audio(3)):
        sub.deliver(event)
    sub.end()
    assert await drain(sub) == [audio(1), other(2), audio(3)]
    assert sub.dropped_audio == 0


async def test_a_full_buffer_drops_new_audio_and_counts_it() -> None:
    sub = Subscription(max_buffer=2)
    for n in range(5):
        sub.deliver(audio(n))
    sub.end()
    assert await drain(sub) == [audio(0), audio(1)]
    assert sub.dropped_audio == 3


async def test_other_events_evict_the_oldest_audio() -> None:
    sub = Subscription(max_buffer=2)
    sub.deliver(audio(0))
    sub.deliver(other(1))
    sub.deliver(other(2))  # full: audio(0) makes room
    sub.end()
    assert await drain(sub) == [other(1), other(2)]
    assert sub.dropped_audio == 1


async def test_a_subscriber_too_slow_for_other_events_is_told() -> None:
    sub = Subscription(max_buffer=2)
    for n in range(3):
        sub.deliver(other(n))
    received = []
    with pytest.raises(SlowSubscriberError, match="2 events behind"):
        async for event in sub:
            received.append(event)
    assert received == [other(0), other(1)]  # what was buffered is still delivered first


async def test_next_waits_for_an_event_or_times_out() -> None:
    sub = Subscription()
    with pytest.raises(TimeoutError):
        await sub.next(timeout=0.01)
    sub.deliver(other(7))
    assert await sub.next(timeout=1) == other(7)


def test_the_bound_is_checked() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Subscription(max_buffer=0)
