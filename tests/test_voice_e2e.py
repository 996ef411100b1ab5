"""The voice pipeline end to end, on asyncio and trio, against the fake over real HTTP.

The fake server (``serve_fake`` on a loopback port) transcribes with a mapping and speaks
with its deterministic synthesiser, so the audio that comes out can be compared byte for
byte with what the pieces should sound like. No sleeps: the user's next utterance is sent
when the previous turn has ended (or, for barge-in, when the reply's audio has begun).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest
from realtime_sansio.protocol.fake.voice import synthesize_speech
from realtime_sansio.protocol.items import AssistantMessage
from realtime_sansio.protocol.voice import STTSettings, TTSSettings
from realtime_sansio.transports.demo import GREETER
from realtime_sansio.transports.memory import FakeServerTransport
from realtime_sansio.transports.voice import (
    AgentWorkflow,
    AudioInput,
    OpenAISTTModel,
    OpenAITTSModel,
    SimpleWorkflow,
    StreamedAudioInput,
    VoicePipeline,
    VoicePipelineConfig,
    VoiceStreamEvent,
    VoiceStreamEventAudio,
    VoiceStreamEventError,
    VoiceStreamEventLifecycle,
    VoiceStreamEventText,
    VoiceStreamEventTranscript,
)
from voice_helpers import fake_server, utterances

pytestmark = pytest.mark.anyio

QUESTIONS = ["Hello there.", "What is the weather like?", "Thank you, goodbye."]


def reply(transcript: str) -> list[str]:
    return ["You said: ", transcript, " That is a very good point, ", "thank you for it."]


def lifecycle(seen: list[VoiceStreamEvent]) -> list[tuple[str, str | None]]:
    return [(e.event, e.turn_id) for e in seen if isinstance(e, VoiceStreamEventLifecycle)]


def models(base: str) -> dict[str, Any]:
    return {"stt_model": OpenAISTTModel(base_url=base), "tts_model": OpenAITTSModel(base_url=base)}


async def converse(
    pipeline: VoicePipeline,
    questions: list[str],
    *,
    next_turn_on: Callable[[VoiceStreamEvent], bool] | None = None,
    report_playback: bool = True,
) -> list[VoiceStreamEvent]:
    """Speak ``questions`` one by one, each when the previous turn has ended (or when
    ``next_turn_on`` says so); every event until ``session_ended``."""
    audio_input = StreamedAudioInput()
    seen: list[VoiceStreamEvent] = []
    go_on = anyio.Event()
    played: dict[str, float] = {}

    async def speak() -> None:
        nonlocal go_on
        for question in questions:
            await audio_input.add_audio(utterances(question, gap_ms=900))
            await go_on.wait()
            go_on = anyio.Event()
        audio_input.close()

    def ends_turn(event: VoiceStreamEvent) -> bool:
        return isinstance(event, VoiceStreamEventLifecycle) and event.event in (
            "turn_ended",
            "turn_interrupted",
        )

    with anyio.fail_after(30):
        async with pipeline.run(audio_input) as result, anyio.create_task_group() as tg:
            tg.start_soon(speak)
            async for event in result:
                seen.append(event)
                if isinstance(event, VoiceStreamEventAudio) and report_playback:
                    played[event.turn_id] = played.get(event.turn_id, 0.0) + len(event.data) / 48
                    await result.audio_played(event.turn_id, played[event.turn_id])
                if (next_turn_on or ends_turn)(event):
                    go_on.set()
    return seen


async def test_one_turn_from_a_wav_file_to_ordered_audio() -> None:
    async with fake_server({0: "What time is it?"}) as base:
        pipeline = VoicePipeline(workflow=SimpleWorkflow(reply), **models(base))
        wav = AudioInput(utterances("What time is it?"))
        seen: list[VoiceStreamEvent] = []
        with anyio.fail_after(20):
            async with pipeline.run(wav) as result:
                seen = [event async for event in result]
    (transcript,) = [e for e in seen if isinstance(e, VoiceStreamEventTranscript)]
    assert transcript.text == "What time is it?"
    pieces = [e.text for e in seen if isinstance(e, VoiceStreamEventText)]
    assert (
        " ".join(pieces)
        == "You said: What time is it? That is a very good point, thank you for it."
    )
    audio = b"".join(e.data for e in seen if isinstance(e, VoiceStreamEventAudio))
    assert audio == b"".join(synthesize_speech(piece) for piece in pieces)
    assert lifecycle(seen) == [
        ("turn_started", "turn_1"),
        ("turn_ended", "turn_1"),
        ("session_ended", None),
    ]


async def test_three_turns_with_playback_reports() -> None:
    async with fake_server(dict(enumerate(QUESTIONS))) as base:
        pipeline = VoicePipeline(workflow=SimpleWorkflow(reply), **models(base))
        seen = await converse(pipeline, QUESTIONS)
    assert lifecycle(seen) == [
        ("turn_started", "turn_1"),
        ("turn_ended", "turn_1"),
        ("turn_started", "turn_2"),
        ("turn_ended", "turn_2"),
        ("turn_started", "turn_3"),
        ("turn_ended", "turn_3"),
        ("session_ended", None),
    ]
    transcripts = [e.text for e in seen if isinstance(e, VoiceStreamEventTranscript)]
    assert transcripts == QUESTIONS
    for turn in ("turn_1", "turn_2", "turn_3"):
        assert any(isinstance(e, VoiceStreamEventAudio) and e.turn_id == turn for e in seen)


class HeldTTS:
    """The fake's TTS, except that the second piece waits until it is cancelled."""

    def __init__(self, base: str) -> None:
        self.model = OpenAITTSModel(base_url=base)
        self.calls = 0
        self.running = 0
        self.cancelled = 0

    async def synthesize(self, text: str, settings: TTSSettings) -> AsyncIterator[bytes]:
        self.calls += 1
        if self.calls != 2:
            async for chunk in self.model.synthesize(text, settings):
                yield chunk
            return
        self.running += 1
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            self.cancelled += 1
            raise
        finally:
            self.running -= 1
        yield b""  # pragma: no cover - never reached


class MemoryWorkflow(SimpleWorkflow):
    """Remembers what the pipeline said was heard of a cut reply."""

    def __init__(self) -> None:
        super().__init__(lambda t: ["Once upon a time, ", "there was a fox who lived far away."])
        self.heard: list[tuple[str, str]] = []

    async def on_interrupted(self, heard: str, spoken: str) -> None:
        self.heard.append((heard, spoken))


async def test_barge_in_stops_the_reply_and_the_workflow_hears_what_was_played() -> None:
    async with fake_server({0: "Tell me a story", 1: "Stop"}) as base:
        tts = HeldTTS(base)
        workflow = MemoryWorkflow()
        pipeline = VoicePipeline(
            workflow=workflow, stt_model=OpenAISTTModel(base_url=base), tts_model=tts
        )
        audio_bytes = 0
        expected = len(synthesize_speech("Once upon a time,"))

        def after_first_piece(event: VoiceStreamEvent) -> bool:
            nonlocal audio_bytes
            if isinstance(event, VoiceStreamEventAudio) and event.turn_id == "turn_1":
                audio_bytes += len(event.data)
                return audio_bytes == expected  # the user speaks once it has been heard
            return isinstance(event, VoiceStreamEventLifecycle) and event.event == "turn_ended"

        seen = await converse(pipeline, ["Tell me a story", "Stop"], next_turn_on=after_first_piece)
    assert lifecycle(seen)[:3] == [
        ("turn_started", "turn_1"),
        ("turn_interrupted", "turn_1"),
        ("turn_started", "turn_2"),
    ]
    assert ("turn_ended", "turn_1") not in lifecycle(seen)
    assert tts.running == 0 and tts.cancelled >= 1  # no synthesis left running
    (heard, spoken) = workflow.heard[0]
    assert heard == "Once upon a time,"
    assert spoken == "Once upon a time, there was a fox who lived far away."


class FailingFirst:
    """A model whose first call goes to a path the fake does not serve (HTTP 404)."""

    def __init__(self, good: Any, bad: Any) -> None:
        self.good, self.bad, self.calls = good, bad, 0

    async def transcribe(self, pcm: bytes, settings: STTSettings) -> str:
        self.calls += 1
        model = self.bad if self.calls == 1 else self.good
        return str(await model.transcribe(pcm, settings))

    async def synthesize(self, text: str, settings: TTSSettings) -> AsyncIterator[bytes]:
        self.calls += 1
        model = self.bad if self.calls == 1 else self.good
        async for chunk in model.synthesize(text, settings):
            yield chunk


@pytest.mark.parametrize("stage", ["transcription", "synthesis", "workflow"])
async def test_a_failing_stage_ends_its_turn_and_the_next_turn_works(stage: str) -> None:
    async with fake_server({0: "First", 1: "Second"}) as base:
        kwargs = models(base)
        wrong = base + "/nowhere"
        if stage == "transcription":
            kwargs["stt_model"] = FailingFirst(kwargs["stt_model"], OpenAISTTModel(base_url=wrong))
        elif stage == "synthesis":
            kwargs["tts_model"] = FailingFirst(kwargs["tts_model"], OpenAITTSModel(base_url=wrong))
        calls = 0

        def flaky(transcript: str) -> list[str]:
            nonlocal calls
            calls += 1
            if stage == "workflow" and calls == 1:
                raise RuntimeError("the workflow broke")
            return reply(transcript)

        pipeline = VoicePipeline(workflow=SimpleWorkflow(flaky), **kwargs)
        seen = await converse(pipeline, ["First", "Second"])
    (error,) = [e for e in seen if isinstance(e, VoiceStreamEventError)]
    assert error.stage == stage and error.turn_id == "turn_1"
    expected = "the workflow broke" if stage == "workflow" else "HTTP 404"
    assert expected in error.error
    assert lifecycle(seen) == [
        ("turn_started", "turn_1"),
        ("turn_ended", "turn_1"),
        ("turn_started", "turn_2"),
        ("turn_ended", "turn_2"),
        ("session_ended", None),
    ]
    assert any(isinstance(e, VoiceStreamEventAudio) and e.turn_id == "turn_2" for e in seen)


async def test_a_greeting_comes_first() -> None:
    async with fake_server({0: "Hi"}) as base:
        workflow = SimpleWorkflow(reply, greeting="Hello! I am listening.")
        config = VoicePipelineConfig(playback="instant")  # heard as soon as it is given out
        pipeline = VoicePipeline(workflow=workflow, config=config, **models(base))
        audio_input = StreamedAudioInput()
        seen: list[VoiceStreamEvent] = []
        with anyio.fail_after(20):
            async with pipeline.run(audio_input) as result:
                async for event in result:
                    seen.append(event)
                    if isinstance(event, VoiceStreamEventLifecycle) and event.event == "turn_ended":
                        audio_input.close()
    greeting = [e for e in seen if isinstance(e, VoiceStreamEventText)]
    assert greeting[0].text == "Hello! I am listening." and greeting[0].turn_id == "greeting_1"
    assert lifecycle(seen)[-1] == ("session_ended", None)


def assistant_texts(workflow: AgentWorkflow) -> list[str]:
    """The text of each assistant message in the workflow's Realtime conversation."""
    texts = []
    for item in workflow.session.history:
        if isinstance(item, AssistantMessage):
            texts.append("".join(getattr(p, "text", None) or "" for p in item.content))
    return texts


async def test_an_agent_answers_with_its_tool_and_its_handoff() -> None:
    questions = ["What's the weather in Paris?", "Please transfer me to support"]
    async with fake_server(dict(enumerate(questions))) as base:
        workflow = AgentWorkflow(GREETER, transport=FakeServerTransport)
        pipeline = VoicePipeline(workflow=workflow, **models(base))
        seen = await converse(pipeline, questions)
    spoken = " ".join(e.text for e in seen if isinstance(e, VoiceStreamEventText))
    assert "Sunny, 21 °C in Paris" in spoken  # the get_weather tool's answer
    assert "this is Support" in spoken  # the handoff's new agent
    assert lifecycle(seen)[-1] == ("session_ended", None)
    assert not [e for e in seen if isinstance(e, VoiceStreamEventError)]


async def test_an_agent_keeps_only_what_was_heard_of_a_cut_reply() -> None:
    workflow = AgentWorkflow(GREETER, transport=FakeServerTransport)
    with anyio.fail_after(20):
        async with workflow:
            reply_text = "".join([text async for text in workflow.run("Hello there")])
            assert reply_text.startswith("You said: Hello there")
            assert assistant_texts(workflow)[-1] == reply_text
            await workflow.on_interrupted("You said:", reply_text)
            with anyio.fail_after(5):
                while assistant_texts(workflow)[-1:] != ["You said:"]:
                    await anyio.sleep(0)
            assert reply_text not in assistant_texts(workflow)
            # The conversation goes on from there.
            follow_up = "".join([text async for text in workflow.run("Thanks")])
            assert "Thanks" in follow_up
