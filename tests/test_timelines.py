"""The demos' timelines print what the application should see: an interruption with the
position heard, a guardrail trip naming its guardrails, an error counted; and the voice
timeline a failed stage with its turn."""

from __future__ import annotations

import io

import pytest
from realtime_sansio.protocol import events
from realtime_sansio.protocol.voice import events as voice_events
from realtime_sansio.transports.demo import Timeline
from realtime_sansio.transports.voice.demo import VoiceTimeline


def test_the_timeline_shows_interruptions_trips_and_errors() -> None:
    out = io.StringIO()
    timeline = Timeline(out, clock=lambda: 2.0)
    timeline.handle(
        events.AudioInterruptedEvent(
            item_id="item_1", response_id="r1", content_index=0, audio_end_ms=1250
        )
    )
    timeline.handle(
        events.GuardrailTrippedEvent(
            guardrails=("no_prices", "no_names"),
            output_info=(),
            response_id="r1",
            item_id="item_1",
            text="It costs",
        )
    )
    timeline.handle(events.ErrorEvent(code="rate_limited", message="slow down"))
    assert out.getvalue().splitlines() == [
        "  0.00s  audio of item_1 interrupted at 1250 ms",
        "  0.00s  guardrail tripped: no_prices, no_names",
        "  0.00s  error rate_limited: slow down",
    ]
    assert timeline.errors == 1


def test_the_timeline_tells_a_lost_connection_from_a_failed_attempt() -> None:
    out = io.StringIO()
    timeline = Timeline(out, clock=lambda: 0.0)
    timeline.handle(events.ReconnectingEvent(attempt=1, delay_s=0.25, code=1011, reason=""))
    timeline.handle(
        events.ReconnectingEvent(attempt=2, delay_s=0.5, code=503, reason="Service Unavailable")
    )
    timeline.handle(
        events.ReconnectingEvent(attempt=3, delay_s=1.0, code=None, reason="OSError: refused")
    )
    assert out.getvalue().splitlines() == [
        "  0.00s  connection lost (connection closed (code 1011): the server hit an internal"
        " error): reconnecting, attempt 1 in 0.25 s",
        "  0.00s  attempt 1 failed (HTTP 503: Service Unavailable): reconnecting, attempt 2"
        " in 0.50 s",
        "  0.00s  attempt 2 failed (OSError: refused): reconnecting, attempt 3 in 1.00 s",
    ]


@pytest.mark.anyio
async def test_the_voice_timeline_shows_a_failed_stage() -> None:
    out = io.StringIO()
    timeline = VoiceTimeline(out)
    timeline.show(
        voice_events.VoiceStreamEventError(
            error="HTTP 429: slow down", turn_id="turn_2", stage="synthesis"
        )
    )
    assert out.getvalue().endswith("turn_2: synthesis failed: HTTP 429: slow down\n")
    assert timeline.errors == 1
