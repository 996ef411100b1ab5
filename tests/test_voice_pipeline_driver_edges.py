"""The voice pipeline's driver at its edges, with in-process models on a virtual clock: the
VAD it is given (by name or factory, a wrong one refused), a workflow without ``run``, the
events read to their end once, and a workflow whose ``on_interrupted`` fails."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
from realtime_sansio.protocol.voice import EnergyVad, VoiceStreamEvent, events
from realtime_sansio.protocol.voice.config import STTSettings, TTSSettings
from realtime_sansio.transports.voice import StreamedAudioInput, VoicePipeline
from realtime_sansio.transports.voice.input import AudioInput
from virtual_clock import VIRTUAL_CLOCK_BACKENDS, virtual_clock_backend
from voice_helpers import silence, utterances

pytestmark = pytest.mark.anyio


@pytest.fixture(params=VIRTUAL_CLOCK_BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> object:
    return virtual_clock_backend(request.param)


class HeardSTT:
    async def transcribe(self, pcm: bytes, settings: STTSettings) -> str:
        return f"{len(pcm)} bytes"


class LongTTS:
    """Five seconds of audio for any text: long enough to be interrupted."""

    async def synthesize(self, text: str, settings: TTSSettings) -> AsyncIterator[bytes]:
        for _ in range(5):
            yield silence(1000)


class Forgetful:
    """A workflow whose memory cannot be trimmed."""

    def run(self, transcript: str) -> list[str]:
        return [f"You said {transcript}. Let me think about that for a long while."]

    async def on_interrupted(self, heard: str, spoken: str) -> None:
        raise RuntimeError("cannot forget")


def pipeline(**options: object) -> VoicePipeline:
    return VoicePipeline(
        workflow=options.pop("workflow", Forgetful()),  # type: ignore[arg-type]
        stt_model=HeardSTT(),
        tts_model=LongTTS(),
        **options,  # type: ignore[arg-type]
    )


async def collect(result: AsyncIterator[VoiceStreamEvent]) -> list[VoiceStreamEvent]:
    return [event async for event in result]


def test_a_workflow_needs_run() -> None:
    with pytest.raises(TypeError, match="a workflow needs a run\\(transcript\\) method"):
        VoicePipeline(workflow=object())  # type: ignore[arg-type]


async def test_the_events_end_once() -> None:
    async with pipeline().run(AudioInput(silence(300))) as result:
        first = await collect(result)
        assert isinstance(first[-1], events.VoiceStreamEventLifecycle)
        assert first[-1].event == "session_ended"
        assert await collect(result) == []


async def test_a_vad_by_factory_and_a_wrong_choice() -> None:
    made: list[EnergyVad] = []

    def make() -> EnergyVad:
        made.append(EnergyVad())
        return made[-1]

    streamed = StreamedAudioInput()
    async with pipeline(vad=make).run(streamed) as result:
        streamed.close()
        await collect(result)
    assert len(made) == 1
    with pytest.raises(ValueError, match="vad is 'energy', 'silero' or a factory of VADs"):
        async with pipeline(vad="webrtc").run(StreamedAudioInput()):
            pass


async def test_the_silero_vad_by_name() -> None:
    streamed = StreamedAudioInput()
    async with pipeline(vad="silero").run(streamed) as result:
        streamed.close()
        lifecycle = [e.event for e in await collect(result) if hasattr(e, "event")]
    assert lifecycle == ["session_ended"]


async def test_a_failing_on_interrupted_is_reported_and_the_next_turn_goes_on() -> None:
    streamed = StreamedAudioInput(max_buffered_chunks=1000)
    seen: list[VoiceStreamEvent] = []
    async with pipeline().run(streamed) as result:
        await streamed.add_audio(utterances("What is the weather like today?"))
        async for event in result:
            seen.append(event)
            if isinstance(event, events.VoiceStreamEventAudio):
                break  # the reply is playing: speak over it
        await streamed.add_audio(utterances("Wait, stop please."))
        streamed.close()
        with anyio.fail_after(120):
            seen += await collect(result)
    lifecycle = [
        (e.event, e.turn_id) for e in seen if isinstance(e, events.VoiceStreamEventLifecycle)
    ]
    assert ("turn_interrupted", "turn_1") in lifecycle
    (error,) = [e for e in seen if isinstance(e, events.VoiceStreamEventError)]
    assert error.stage == "workflow" and error.turn_id == "turn_1"
    assert error.error == "on_interrupted failed: RuntimeError: cannot forget"
    assert ("turn_started", "turn_2") in lifecycle


async def test_an_interrupt_delivers_every_event_of_the_cut_turn() -> None:
    # Regression: with the reader behind, the synthesis task was the one handing events over
    # when the interrupt cancelled it, and the event it had taken from the queue (the turn's
    # metrics) was lost.
    streamed = StreamedAudioInput(max_buffered_chunks=1000)
    seen: list[VoiceStreamEvent] = []
    async with pipeline(max_buffered_events=1).run(streamed) as result:
        await streamed.add_audio(utterances("What is the weather like today?"))
        async for event in result:
            seen.append(event)
            if isinstance(event, events.VoiceStreamEventAudio):
                break  # the reply is playing, the synthesis waits for the reader: stop it
        with anyio.fail_after(60):
            await result.audio_played("turn_1", 300.0)
            async with anyio.create_task_group() as group:
                group.start_soon(result.interrupt)
                async for event in result:
                    seen.append(event)
                    lifecycle = isinstance(event, events.VoiceStreamEventLifecycle)
                    if lifecycle and event.event == "turn_interrupted":  # type: ignore[union-attr]
                        break
        streamed.close()
        with anyio.fail_after(60):
            seen += await collect(result)
    kinds = [type(e).__name__ for e in seen if not isinstance(e, events.VoiceStreamEventAudio)]
    cut = kinds.index("VoiceStreamEventLifecycle", kinds.index("VoiceStreamEventText"))
    assert kinds[cut - 1] == "VoiceStreamEventMetrics"
    (metrics,) = [e for e in seen if isinstance(e, events.VoiceStreamEventMetrics)]
    assert (metrics.turn_id, metrics.heard_ms) == ("turn_1", 300.0)
    assert ("turn_interrupted", "turn_1") in [
        (e.event, e.turn_id) for e in seen if isinstance(e, events.VoiceStreamEventLifecycle)
    ]
