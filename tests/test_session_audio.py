"""Assistant audio: delivery, interruption, truncation at the heard position, formats."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from realtime_sansio.protocol import (
    PCM16,
    PCMA,
    PCMU,
    RunConfig,
    SessionModelSettings,
    TurnDetectionConfig,
    events,
    inputs,
    wire,
)
from session_helpers import (
    Feed,
    audio_delta,
    audio_done,
    created,
    done,
    of_type,
    one,
    sent,
    sent_types,
    session_updated,
    speech_started,
    started,
    text_delta,
)

MS = 48  # bytes of 24 kHz PCM16 per millisecond


def _speaking(
    rid: str = "r1", iid: str = "i1", ms: int = 1000, *, at: float = 10.0, **kwargs: Any
) -> Feed:
    """A started session whose response ``rid`` has sent ``ms`` of audio at time ``at``."""
    feed = Feed(started(**kwargs))
    feed(created(rid), now=at)
    feed(audio_delta(rid, iid, ms * MS), now=at)
    return feed


def _truncate(out: Sequence[object]) -> wire.ConversationItemTruncate:
    return one(sent(out), wire.ConversationItemTruncate)


# -- delivery --------------------------------------------------------------------------------


def test_audio_deltas_are_delivered_as_bytes() -> None:
    feed = Feed(started())
    feed(created("r1"))
    audio = one(feed(audio_delta("r1", "i1", 960)), events.AudioEvent)
    assert audio.data == bytes(960)
    assert (audio.response_id, audio.item_id, audio.content_index) == ("r1", "i1", 0)
    end = one(feed(audio_done("r1", "i1")), events.AudioEndEvent)
    assert (end.response_id, end.item_id) == ("r1", "i1")


# -- interrupt -------------------------------------------------------------------------------


def test_interrupt_cancels_and_truncates_at_the_reported_position() -> None:
    feed = _speaking(ms=1000, at=10.0)
    feed(inputs.AudioPlayed(item_id="i1", content_index=0, ms=250))
    out = feed(inputs.Interrupt(), now=10.5)
    assert sent_types(out) == ["response.cancel", "conversation.item.truncate"]
    assert one(out, wire.ResponseCancel).response_id == "r1"
    truncate = _truncate(out)
    assert (truncate.item_id, truncate.content_index, truncate.audio_end_ms) == ("i1", 0, 250)
    cut = one(out, events.AudioInterruptedEvent)
    assert (cut.response_id, cut.item_id, cut.audio_end_ms) == ("r1", "i1", 250)


def test_the_latest_report_counts() -> None:
    feed = _speaking(ms=1000)
    feed(inputs.AudioPlayed(item_id="i1", ms=100))
    feed(inputs.AudioPlayed(item_id="i1", ms=420))
    assert _truncate(feed(inputs.Interrupt(), now=10.1)).audio_end_ms == 420


def test_a_report_beyond_the_audio_received_is_clamped() -> None:
    feed = _speaking(ms=1000)
    feed(inputs.AudioPlayed(item_id="i1", ms=5000))
    out = feed(inputs.Interrupt(), now=10.2)
    assert _truncate(out).audio_end_ms == 1000
    assert one(out, events.AudioInterruptedEvent).audio_end_ms == 1000


def test_without_reports_the_position_is_estimated_from_the_clock() -> None:
    feed = _speaking(ms=500, at=10.0)
    feed(audio_delta("r1", "i1", 500 * MS), now=10.1)  # later deltas do not restart the clock
    assert _truncate(feed(inputs.Interrupt(), now=10.3)).audio_end_ms == 300


def test_the_estimate_never_passes_the_audio_received() -> None:
    feed = _speaking(ms=200, at=10.0)
    assert _truncate(feed(inputs.Interrupt(), now=13.0)).audio_end_ms == 200


def test_an_item_nothing_of_which_was_played_is_deleted() -> None:
    feed = _speaking(ms=1000, at=10.0)
    out = feed(inputs.Interrupt(), now=10.0)
    assert sent_types(out) == ["response.cancel", "conversation.item.delete"]
    assert one(out, wire.ConversationItemDelete).item_id == "i1"
    assert one(out, events.AudioInterruptedEvent).audio_end_ms == 0


def test_a_zero_report_deletes_the_item_too() -> None:
    feed = _speaking(ms=1000, at=10.0)
    feed(inputs.AudioPlayed(item_id="i1", ms=0))
    assert "conversation.item.delete" in sent_types(feed(inputs.Interrupt(), now=11.0))


def test_a_text_only_response_is_cancelled_not_truncated() -> None:
    feed = Feed(started())
    feed(created("r1"))
    feed(text_delta("r1", "i1", "Once upon a time"))
    out = feed(inputs.Interrupt(), now=5.0)
    assert sent_types(out) == ["response.cancel"]


def test_a_second_interrupt_of_the_same_item_sends_nothing_once_the_response_ended() -> None:
    feed = _speaking(ms=1000, at=10.0)
    feed(inputs.Interrupt(), now=10.4)
    feed(done("r1", status="cancelled"))
    assert sent(feed(inputs.Interrupt(), now=10.6)) == []


def test_audio_of_an_interrupted_response_is_no_longer_delivered() -> None:
    feed = _speaking(ms=1000, at=10.0)
    feed(inputs.Interrupt(), now=10.4)
    out = feed(audio_delta("r1", "i1", 960), audio_delta("r1", "i2", 960), audio_done("r1", "i1"))
    assert of_type(out, events.AudioEvent) == []
    assert of_type(out, events.AudioEndEvent) == []


def test_the_next_responses_audio_is_delivered_again() -> None:
    feed = _speaking(ms=1000, at=10.0)
    feed(inputs.Interrupt(), now=10.4)
    feed(done("r1", status="cancelled"), created("r2"))
    assert len(of_type(feed(audio_delta("r2", "i2", 960)), events.AudioEvent)) == 1


def test_interrupt_after_the_response_ended_cuts_the_audio_still_playing() -> None:
    feed = _speaking(ms=3000, at=10.0)
    feed(done("r1"), now=10.1)
    out = feed(inputs.Interrupt(), now=11.0)
    assert sent_types(out) == ["conversation.item.truncate"]
    assert _truncate(out).audio_end_ms == 1000


def test_interrupt_after_everything_was_heard_sends_nothing() -> None:
    feed = _speaking(ms=500, at=10.0)
    feed(done("r1"), now=10.1)
    assert sent(feed(inputs.Interrupt(), now=20.0)) == []


def test_interrupt_with_nothing_active_sends_nothing() -> None:
    assert sent(Feed(started())(inputs.Interrupt())) == []


def test_force_cancel_with_nothing_active_sends_a_bare_cancel() -> None:
    out = Feed(started())(inputs.Interrupt(force_cancel=True))
    (cancel,) = sent(out)
    assert cancel == wire.ResponseCancel()


def test_interrupt_before_the_response_is_created_cancels_it_when_it_is() -> None:
    feed = Feed(started())
    feed(inputs.SendMessage(message="tell me a story"))
    assert sent(feed(inputs.Interrupt())) == []
    out = feed(created("r1"))
    assert one(sent(out), wire.ResponseCancel).response_id == "r1"


# -- formats ---------------------------------------------------------------------------------


def test_durations_follow_the_output_format() -> None:
    config = RunConfig(model_settings=SessionModelSettings(output_audio_format=PCMU))
    feed = Feed(started(config=config))
    feed(created("r1"), now=0.0)
    feed(audio_delta("r1", "i1", 8000), now=0.0)  # 8 bytes per ms: 1000 ms of G.711
    feed(inputs.AudioPlayed(item_id="i1", ms=5000))
    assert _truncate(feed(inputs.Interrupt(), now=0.5)).audio_end_ms == 1000


def test_pcm16_durations_are_48_bytes_per_ms() -> None:
    feed = Feed(started())
    feed(created("r1"), now=0.0)
    feed(audio_delta("r1", "i1", 8000), now=0.0)
    feed(inputs.AudioPlayed(item_id="i1", ms=5000))
    assert _truncate(feed(inputs.Interrupt(), now=0.5)).audio_end_ms == 8000 // 48


def test_the_servers_output_format_counts() -> None:
    feed = Feed(started())
    feed(
        wire.SessionUpdated(
            event_id="e1",
            session={"type": "realtime", "audio": {"output": {"format": {"type": "audio/pcmu"}}}},
        )
    )
    feed(created("r1"), now=0.0)
    feed(audio_delta("r1", "i1", 800), now=0.0)
    assert _truncate(feed(inputs.Interrupt(), now=1.0)).audio_end_ms == 100


def test_the_output_format_is_public_and_follows_the_session() -> None:
    # Subscribers size their audio buffers in seconds from it.
    assert Feed(started()).session.output_audio_format == PCM16
    config = RunConfig(model_settings=SessionModelSettings(output_audio_format=PCMU))
    feed = Feed(started(config=config))
    assert feed.session.output_audio_format == PCMU
    feed(session_updated({"audio": {"output": {"format": {"type": "audio/pcma"}}}}))
    assert feed.session.output_audio_format == PCMA


# -- server VAD ------------------------------------------------------------------------------


def test_speech_started_truncates_without_cancelling() -> None:
    feed = _speaking(ms=1000, at=0.0)
    out = feed(speech_started(), now=0.6)
    assert sent_types(out) == ["conversation.item.truncate"]
    assert _truncate(out).audio_end_ms == 600
    assert one(out, events.AudioInterruptedEvent).item_id == "i1"


def test_speech_started_stops_delivering_the_responses_audio() -> None:
    feed = _speaking(ms=1000, at=10.0)
    feed(speech_started(), now=10.6)
    assert of_type(feed(audio_delta("r1", "i1", 960)), events.AudioEvent) == []


def test_speech_started_with_interrupt_response_off_cuts_nothing() -> None:
    detection = TurnDetectionConfig.server_vad(interrupt_response=False)
    config = RunConfig(model_settings=SessionModelSettings(turn_detection=detection))
    feed = _speaking(ms=1000, at=10.0, config=config)
    out = feed(speech_started(), now=10.6)
    assert sent(out) == []
    assert of_type(out, events.AudioInterruptedEvent) == []
    assert len(of_type(feed(audio_delta("r1", "i1", 960)), events.AudioEvent)) == 1


def test_speech_started_with_nothing_playing_sends_nothing() -> None:
    assert sent(Feed(started())(speech_started())) == []
