"""History, transcripts, usage and turn metrics."""

from __future__ import annotations

import pytest
from realtime_sansio.protocol import events, inputs
from realtime_sansio.protocol.items import AssistantMessage, InputAudio, OutputAudio, UserMessage
from session_helpers import (
    Feed,
    assistant_item,
    audio_delta,
    created,
    done,
    item_added,
    item_deleted,
    item_done,
    item_truncated,
    of_type,
    one,
    speech_stopped,
    started,
    text_delta,
    transcript_delta,
    transcript_done,
    usage,
    user_item,
    user_transcript_delta,
    user_transcript_done,
)


def _ids(feed: Feed) -> list[str | None]:
    return [item.id for item in feed.session.history]


# -- order -----------------------------------------------------------------------------------


def test_items_are_ordered_by_previous_item_id_even_when_they_arrive_late() -> None:
    feed = Feed(started())
    feed(item_added(user_item("a", "one")))
    feed(item_added(user_item("c", "three"), previous="b"))  # b is not known yet
    feed(item_added(user_item("b", "two"), previous="a"))
    assert _ids(feed) == ["a", "b", "c"]


def test_an_item_is_inserted_right_after_its_predecessor() -> None:
    feed = Feed(started())
    feed(item_added(user_item("a", "one")))
    feed(item_added(assistant_item("b"), previous="a"))
    feed(item_added(user_item("x", "inserted"), previous="a"))
    assert _ids(feed) == ["a", "x", "b"]


# -- added, updated, deleted -----------------------------------------------------------------


def test_a_new_item_gives_a_history_added_event() -> None:
    feed = Feed(started())
    feed(item_added(user_item("a", "one")))
    out = feed(item_added(assistant_item("b"), previous="a"))
    added = one(out, events.HistoryAddedEvent)
    assert isinstance(added.item, AssistantMessage)
    assert (added.item.id, added.previous_item_id) == ("b", "a")
    assert of_type(out, events.HistoryUpdatedEvent) == []


def test_an_item_done_gives_a_history_updated_event() -> None:
    feed = Feed(started())
    feed(item_added(assistant_item("b")))
    out = feed(item_done(assistant_item("b", "All done.", status="completed")))
    updated = one(out, events.HistoryUpdatedEvent)
    assert updated.item_id == "b"
    assert updated.item == feed.session.history.get("b")
    assert isinstance(updated.item, AssistantMessage)
    assert updated.item.status == "completed"
    assert updated.item.content == (OutputAudio(transcript="All done."),)
    assert of_type(out, events.HistoryAddedEvent) == []
    assert _ids(feed) == ["b"]


def test_a_completed_input_transcription_updates_the_user_item() -> None:
    feed = Feed(started())
    feed(item_added(user_item("u1")))
    out = feed(user_transcript_done("u1", "What's the weather?"))
    updated = one(out, events.HistoryUpdatedEvent)
    assert isinstance(updated.item, UserMessage)
    assert updated.item.content == (InputAudio(transcript="What's the weather?"),)


def test_a_truncation_updates_the_assistant_item() -> None:
    feed = Feed(started())
    feed(item_added(assistant_item("b", "Words nobody heard.")))
    out = feed(item_truncated("b", 1500))
    updated = one(out, events.HistoryUpdatedEvent)
    assert updated.item_id == "b"
    assert updated.item is not None
    assert feed.session.history.truncation("b") == (0, 1500)


def test_a_deletion_is_an_update_without_an_item() -> None:
    feed = Feed(started())
    feed(item_added(user_item("a", "one")))
    feed(item_added(user_item("b", "two"), previous="a"))
    out = feed(item_deleted("a"))
    deleted = one(out, events.HistoryUpdatedEvent)
    assert (deleted.item_id, deleted.item) == ("a", None)
    assert _ids(feed) == ["b"]


def test_deleting_an_unknown_item_changes_nothing() -> None:
    feed = Feed(started())
    assert of_type(feed(item_deleted("ghost")), events.HistoryUpdatedEvent) == []


# -- transcripts -----------------------------------------------------------------------------


def test_assistant_transcript_deltas_reach_subscribers_and_the_history() -> None:
    feed = Feed(started())
    feed(created("r1"), item_added(assistant_item("b")))
    out = feed(transcript_delta("r1", "b", "Hello "))
    delta = one(out, events.TranscriptDeltaEvent)
    assert (delta.role, delta.item_id, delta.content_index, delta.delta, delta.response_id) == (
        "assistant",
        "b",
        0,
        "Hello ",
        "r1",
    )
    feed(transcript_delta("r1", "b", "there."))
    assert feed.session.history.get("b") == AssistantMessage(
        id="b", status="in_progress", content=(OutputAudio(transcript="Hello there."),)
    )
    out = feed(transcript_done("r1", "b", "Hello there!"))
    assert one(out, events.HistoryUpdatedEvent).item == AssistantMessage(
        id="b", status="in_progress", content=(OutputAudio(transcript="Hello there!"),)
    )


def test_assistant_text_deltas_are_transcript_deltas_too() -> None:
    feed = Feed(started())
    feed(created("r1"))
    delta = one(feed(text_delta("r1", "b", "Hi")), events.TranscriptDeltaEvent)
    assert (delta.role, delta.delta) == ("assistant", "Hi")


def test_user_transcript_deltas_reach_subscribers() -> None:
    feed = Feed(started())
    feed(item_added(user_item("u1")))
    delta = one(feed(user_transcript_delta("u1", "What's")), events.TranscriptDeltaEvent)
    assert (delta.role, delta.item_id, delta.delta, delta.response_id) == (
        "user",
        "u1",
        "What's",
        None,
    )


# -- usage -----------------------------------------------------------------------------------


def test_usage_gives_running_totals() -> None:
    feed = Feed(started())
    feed(created("r1"))
    first = one(feed(done("r1", usage=usage(60, 20, 40))), events.UsageEvent)
    assert (first.response_id, first.total_tokens, first.input_tokens, first.output_tokens) == (
        "r1",
        60,
        20,
        40,
    )
    assert first.usage == usage(60, 20, 40)
    feed(created("r2"))
    second = one(feed(done("r2", usage=usage(30, 10, 20))), events.UsageEvent)
    assert (second.total_tokens, second.input_tokens, second.output_tokens) == (90, 30, 60)
    assert second.usage == usage(30, 10, 20)


def test_a_response_without_usage_gives_no_usage_event() -> None:
    feed = Feed(started())
    feed(created("r1"))
    assert of_type(feed(done("r1")), events.UsageEvent) == []


# -- turn metrics ----------------------------------------------------------------------------


def test_speech_stopped_to_first_audio() -> None:
    feed = Feed(started())
    feed(speech_stopped(), now=5.0)
    feed(created("r1"), now=5.1)  # made by server VAD: no response.create of ours
    metrics = one(feed(audio_delta("r1", "b", 480), now=5.4), events.TurnMetricsEvent)
    assert metrics.response_id == "r1"
    assert metrics.speech_stopped_to_first_audio_ms == pytest.approx(400)
    assert metrics.create_to_first_audio_ms is None
    assert of_type(feed(audio_delta("r1", "b", 480), now=5.5), events.TurnMetricsEvent) == []


def test_response_create_to_first_audio() -> None:
    feed = Feed(started())
    feed(inputs.SendMessage(message="hi"), now=1.0)
    feed(created("r1"), now=1.2)
    metrics = one(feed(audio_delta("r1", "b", 480), now=1.5), events.TurnMetricsEvent)
    assert metrics.create_to_first_audio_ms == pytest.approx(500)
    assert metrics.speech_stopped_to_first_audio_ms is None


def test_interrupt_to_truncated() -> None:
    feed = Feed(started())
    feed(created("r1"), now=2.0)
    feed(audio_delta("r1", "b", 48_000), now=2.0)
    feed(inputs.Interrupt(), now=2.5)
    metrics = one(feed(item_truncated("b", 500), now=2.58), events.TurnMetricsEvent)
    assert metrics.response_id == "r1"
    assert metrics.interrupt_to_truncate_ms == pytest.approx(80)


def test_interrupt_to_deleted_when_nothing_was_heard() -> None:
    feed = Feed(started())
    feed(created("r1"), now=2.0)
    feed(audio_delta("r1", "b", 48_000), now=2.0)
    feed(inputs.Interrupt(), now=2.0)
    metrics = one(feed(item_deleted("b"), now=2.05), events.TurnMetricsEvent)
    assert metrics.interrupt_to_truncate_ms == pytest.approx(50)


def test_a_truncation_nobody_asked_for_gives_no_metrics() -> None:
    feed = Feed(started())
    feed(item_added(assistant_item("b")))
    assert of_type(feed(item_truncated("b", 10), now=3.0), events.TurnMetricsEvent) == []
