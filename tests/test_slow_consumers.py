"""Slow and real-time consumers against a server that streams faster than real time (issue 8).

The server is the fake at ``pace=0.05`` (20x faster than real time) over the in-memory
transport, and time is virtual (``virtual_clock``): a 10-minute reply played at real time
costs CPU only, no wall time.
"""

from __future__ import annotations

import base64
import json

import anyio
import pytest
from realtime_sansio.protocol import (
    PCM16,
    PCMU,
    Agent,
    RunConfig,
    SessionModelSettings,
    events,
)
from realtime_sansio.protocol.fake import FakeServerConfig, Respond
from realtime_sansio.protocol.testing import ScriptAudio
from realtime_sansio.transports.runner import RealtimeSession, run
from runner_helpers import Recording, of
from virtual_clock import VIRTUAL_CLOCK_BACKENDS, virtual_clock_backend

pytestmark = pytest.mark.anyio

AGENT = Agent(name="Narrator", instructions="Talk for a long time.")
TWENTY_TIMES_REAL_TIME = FakeServerConfig(pace=0.05)


@pytest.fixture(params=VIRTUAL_CLOCK_BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> object:
    return virtual_clock_backend(request.param)


def spoken_reply(duration_ms: int, chunk_ms: int) -> Respond:
    """``duration_ms`` of audio in ``chunk_ms`` deltas, a one-character transcript delta beside
    each. One long word is cheap to synthesise (the fake pads its speech with silence)."""
    deltas = duration_ms // chunk_ms
    reply = ScriptAudio(
        transcript="a" * deltas, duration_ms=duration_ms, chunk_ms=chunk_ms, transcript_chunk=1
    )
    return Respond(outputs=(reply,))


def server_audio(transport: Recording) -> bytes:
    """Every audio byte the server sent, in order."""
    return b"".join(
        base64.b64decode(payload["delta"])
        for payload in map(json.loads, transport.received)
        if payload["type"] == "response.output_audio.delta"
    )


async def play_until_the_reply_ends(
    session: RealtimeSession,
) -> tuple[list[bytes], int, list[events.EventsDroppedEvent]]:
    """A real-time player: each chunk takes its duration to play. The chunks heard, the
    transcript deltas seen, and the drop reports."""
    heard: list[bytes] = []
    deltas = 0
    drops: list[events.EventsDroppedEvent] = []
    async for event in session:
        if isinstance(event, events.AudioEvent):
            heard.append(event.data)
            await anyio.sleep(len(event.data) / PCM16.bytes_per_second)
        elif isinstance(event, events.TranscriptDeltaEvent):
            deltas += 1
        elif isinstance(event, events.EventsDroppedEvent):
            drops.append(event)
        elif isinstance(event, events.AgentEndEvent):
            break
    return heard, deltas, drops


async def test_a_real_time_player_hears_every_sample_of_a_10_minute_reply_sent_20x_faster() -> None:
    # The test. 500 ms deltas keep it to 1,200 of them (and their 1,200 transcript
    # deltas, and 2,400 raw events in the default subscription): under 10 s of CPU for both
    # loops. The reply arrives in 30 s and is heard over 10 minutes: the backlog peaks at 9.5
    # minutes of audio.
    transport = Recording(TWENTY_TIMES_REAL_TIME, script=[spoken_reply(600_000, 500)])
    async with run(AGENT, transport=transport) as session:
        await session.send_message("Tell me everything.")
        heard, deltas, drops = await play_until_the_reply_ends(session)
    sent = server_audio(transport)
    assert len(sent) == 600 * PCM16.bytes_per_second
    assert b"".join(heard) == sent
    assert deltas == len(heard) == 1200
    # Only raw events were dropped (over their own bound of 1,024), and the player was told.
    assert drops and {drop.kind for drop in drops} == {"raw"}


async def test_a_fast_server_with_raw_events_no_longer_cuts_a_real_time_player_off() -> None:
    # Regression: the raw events and transcript deltas of a minute of 40 ms deltas, all sent
    # at once (pace 0), filled the one buffer of 4,096 events, pushed every chunk of audio out,
    # then ended the subscription with SlowSubscriberError 40 ms into the reply.
    transport = Recording(FakeServerConfig(pace=0), script=[spoken_reply(60_000, 40)])
    async with run(AGENT, transport=transport) as session:
        await session.send_message("Tell me everything.")
        heard, deltas, _ = await play_until_the_reply_ends(session)
    assert b"".join(heard) == server_audio(transport)
    assert deltas == len(heard) == 1500


async def test_an_interruption_skips_the_stale_audio_to_reach_the_player_at_once() -> None:
    transport = Recording(TWENTY_TIMES_REAL_TIME, script=[spoken_reply(60_000, 500)])
    heard: list[bytes] = []
    async with run(AGENT, transport=transport) as session:

        async def user_barges_in() -> None:
            await anyio.sleep(10.25)  # the whole reply arrived at 3 s; 10 s of it were heard
            await session.interrupt()

        await session.send_message("Tell me everything.")
        async with anyio.create_task_group() as tg:
            tg.start_soon(user_barges_in)
            async for event in session:
                if isinstance(event, events.AudioEvent):
                    heard.append(event.data)
                    await anyio.sleep(len(event.data) / PCM16.bytes_per_second)
                elif isinstance(event, events.AudioInterruptedEvent):
                    cut = event
                    break
    # The player heard up to the interruption, plus the chunk it was playing: not the 50 s of
    # audio still buffered, and the cut is where the player was.
    heard_ms = len(b"".join(heard)) * 1000 // PCM16.bytes_per_second
    assert heard_ms == 10_500
    assert 10_000 <= cut.audio_end_ms <= heard_ms
    assert server_audio(transport).startswith(b"".join(heard))


async def test_the_audio_bound_is_in_seconds_of_the_sessions_output_format() -> None:
    config = RunConfig(model_settings=SessionModelSettings(output_audio_format=PCMU))
    transport = Recording(script=[spoken_reply(2000, 100)])
    async with run(AGENT, config=config, transport=transport) as session:
        listener = session.subscribe(max_audio_s=0.5, raw=False)  # never read until the end
        await session.send_message("Tell me everything.")
        async for event in session:
            if isinstance(event, events.AgentEndEvent):
                break
        session.unsubscribe(listener)
        seen = [event async for event in listener]
    (report,) = of(seen, events.EventsDroppedEvent)
    assert (report.kind, report.count, report.audio_ms) == ("audio", 15, 1500.0)
    kept = of(seen, events.AudioEvent)
    assert len(b"".join(e.data for e in kept)) == PCMU.bytes_per_second // 2  # 4,000 bytes
    assert seen.index(report) < seen.index(kept[0])
    assert not of(seen, events.RawModelEvent)


async def test_bounds_are_refused_with_their_name() -> None:
    with pytest.raises(ValueError, match="subscriber_buffer must be a whole number"):
        async with run(AGENT, transport=Recording(), subscriber_buffer=0):
            pass  # pragma: no cover - refused before connecting
    async with run(AGENT, transport=Recording()) as session:
        with pytest.raises(ValueError, match="max_buffer must be a whole number of events"):
            session.subscribe(max_buffer=0)  # 0 no longer means the default
        with pytest.raises(ValueError, match="max_events must be a whole number of events"):
            session.subscribe(max_events=-1)
        with pytest.raises(ValueError, match="max_audio_s must be a number of seconds"):
            session.subscribe(max_audio_s=0)
        with pytest.warns(DeprecationWarning, match="subscribe.max_buffer=.... is now max_events"):
            assert session.subscribe(max_buffer=8).max_events == 8
