"""The voice pipeline's pure core: turns, ordered synthesis, barge-in, failures, bounds."""

from __future__ import annotations

import pytest
from realtime_sansio.protocol import LocalProtocolError
from realtime_sansio.protocol.voice import (
    EnergyVad,
    Pipeline,
    VoicePipelineConfig,
    effects,
    events,
)
from realtime_sansio.protocol.voice import inputs as vi
from voice_helpers import RATE, CoreHarness, silence, speech_audio, utterances

INSTANT = VoicePipelineConfig(playback="instant")


def streamed(config: VoicePipelineConfig = INSTANT, **kwargs: object) -> CoreHarness:
    harness = CoreHarness(Pipeline(config, vad=EnergyVad(), **kwargs))  # type: ignore[arg-type]
    harness.start()
    return harness


def test_one_turn_from_transcript_to_audio_in_order() -> None:
    h = CoreHarness(Pipeline(INSTANT))
    h.start()
    h.handle(vi.AudioChunk(data=speech_audio("What time is it?")))
    h.handle(vi.InputClosed())
    (transcribe,) = h.take(effects.Transcribe)
    assert transcribe.pcm == speech_audio("What time is it?")
    h.handle(vi.Transcribed(turn_id=transcribe.turn_id, text="What time is it?"))
    (run,) = h.take(effects.RunWorkflow)
    assert run.transcript == "What time is it?"
    for delta in ["It is ", "noon, more or less. ", "Enjoy", " your lunch!"]:
        h.handle(vi.WorkflowText(turn_id=run.turn_id, text=delta))
    h.handle(vi.WorkflowDone(turn_id=run.turn_id))
    pieces = h.take(effects.Synthesize)
    assert [p.text for p in pieces] == ["It is noon, more or less.", "Enjoy your lunch!"]
    # The second piece's audio arrives first: it waits for the first.
    h.handle(vi.SynthesizedAudio(piece_id=pieces[1].piece_id, data=b"\x02\x00" * 10))
    assert h.audio_out() == b""
    h.handle(vi.SynthesizedAudio(piece_id=pieces[0].piece_id, data=b"\x01\x00" * 5))
    h.handle(vi.SynthesisDone(piece_id=pieces[1].piece_id))
    assert h.audio_out() == b"\x01\x00" * 5
    h.handle(vi.SynthesisDone(piece_id=pieces[0].piece_id))
    assert h.audio_out() == b"\x01\x00" * 5 + b"\x02\x00" * 10
    texts = [e.text for e in h.events(events.VoiceStreamEventText)]
    assert texts == ["It is noon, more or less.", "Enjoy your lunch!"]
    assert h.lifecycle() == [
        ("turn_started", "turn_1"),
        ("turn_ended", "turn_1"),
        ("session_ended", None),
    ]
    (transcript,) = h.events(events.VoiceStreamEventTranscript)
    assert transcript.text == "What time is it?"
    # Nothing after session_ended.
    assert h.handle(vi.Transcribed(turn_id="turn_1", text="late")) == []
    with pytest.raises(LocalProtocolError):
        h.handle(vi.AudioChunk(data=b"\x00\x00"))


def test_captions_come_just_before_their_audio() -> None:
    h = CoreHarness(Pipeline(INSTANT))
    h.start()
    h.handle(vi.AudioChunk(data=silence(200)))
    h.handle(vi.InputClosed())
    h.answer_all(reply=lambda t: ["First sentence is here. ", "Second one follows now."])
    kinds = [
        type(e).__name__
        for e in h.events()
        if isinstance(e, events.VoiceStreamEventText | events.VoiceStreamEventAudio)
    ]
    assert kinds == [
        "VoiceStreamEventText",
        "VoiceStreamEventAudio",
        "VoiceStreamEventText",
        "VoiceStreamEventAudio",
    ]


def test_synthesis_in_flight_is_bounded_and_refilled() -> None:
    config = VoicePipelineConfig(playback="instant", max_synthesis_in_flight=2)
    h = CoreHarness(Pipeline(config))
    h.start()
    h.handle(vi.AudioChunk(data=silence(100)))
    h.handle(vi.InputClosed())
    (transcribe,) = h.take(effects.Transcribe)
    h.handle(vi.Transcribed(turn_id=transcribe.turn_id, text="go"))
    (run,) = h.take(effects.RunWorkflow)
    sentences = [f"This is sentence number {n} of the longer reply. " for n in range(5)]
    for sentence in sentences:
        h.handle(vi.WorkflowText(turn_id=run.turn_id, text=sentence))
    h.handle(vi.WorkflowDone(turn_id=run.turn_id))
    started = h.take(effects.Synthesize)
    assert len(started) == 2
    # A later piece finishing does not free a slot: its audio still waits for the first.
    h.handle(vi.SynthesisDone(piece_id=started[1].piece_id))
    assert h.take(effects.Synthesize) == []
    h.handle(vi.SynthesisDone(piece_id=started[0].piece_id))
    assert len(h.take(effects.Synthesize)) == 2


def test_turns_come_from_the_vad_and_are_answered_in_order() -> None:
    h = streamed()
    h.audio(utterances("Hello there, how are you?"))
    h.answer_all()
    h.audio(utterances("What is the weather like?"))
    h.handle(vi.InputClosed())
    h.answer_all()
    assert h.lifecycle() == [
        ("turn_started", "turn_1"),
        ("turn_ended", "turn_1"),
        ("turn_started", "turn_2"),
        ("turn_ended", "turn_2"),
        ("session_ended", None),
    ]
    transcribed = [e for e in h.outputs if isinstance(e, effects.Transcribe)]
    first = speech_audio("Hello there, how are you?")
    # The turn's audio is the speech with its prefix padding (300 ms) and no trailing wait.
    assert abs(len(transcribed[0].pcm) - len(first) - 2 * RATE * 300 // 1000) < 2 * RATE // 10


@pytest.mark.parametrize("chunk", [480, 4800, 77 * 2, 48000])
def test_chunking_of_the_input_does_not_change_the_turns(chunk: int) -> None:
    audio = utterances("One two three.", "Four five six seven.", gap_ms=800)
    reference = streamed()
    reference.audio(audio)
    h = streamed()
    h.audio(audio, chunk_bytes=chunk)
    pcm = [e.pcm for e in h.outputs if isinstance(e, effects.Transcribe)]
    assert pcm == [e.pcm for e in reference.outputs if isinstance(e, effects.Transcribe)]
    assert len(pcm) == 2


def test_barge_in_cancels_the_rest_and_reports_what_was_heard() -> None:
    h = streamed(VoicePipelineConfig(playback="realtime"))
    h.audio(utterances("Tell me a story please."))
    (transcribe,) = h.take(effects.Transcribe)
    h.handle(vi.Transcribed(turn_id=transcribe.turn_id, text="Tell me a story"))
    (run,) = h.take(effects.RunWorkflow)
    h.handle(vi.WorkflowText(turn_id=run.turn_id, text="Once upon a time there was a fox. "))
    h.handle(vi.WorkflowText(turn_id=run.turn_id, text="It lived in a quiet forest near the sea, "))
    h.handle(
        vi.WorkflowText(
            turn_id=run.turn_id,
            text="far away. Every single morning it went out to hunt for food. ",
        )
    )
    first, second, third = h.take(effects.Synthesize)
    assert second.text == "It lived in a quiet forest near the sea, far away."
    one_second = silence(1000)
    for piece in (first, second):
        h.handle(vi.SynthesizedAudio(piece_id=piece.piece_id, data=one_second))
        h.handle(vi.SynthesisDone(piece_id=piece.piece_id))
    # The listener reports 1.5 s played: all of the first piece, half of the second.
    h.handle(vi.AudioPlayed(turn_id=run.turn_id, ms=1500))
    h.audio(silence(300) + speech_audio("Wait, stop!"))  # barge-in
    cancels = h.take(effects.CancelSynthesis)
    assert [c.piece_id for c in cancels] == [third.piece_id]
    assert [c.turn_id for c in h.take(effects.CancelWorkflow)] == [run.turn_id]
    (heard,) = h.take(effects.ReportHeard)
    assert heard.heard == "Once upon a time there was a fox. It lived in a quiet"
    assert heard.spoken.startswith("Once upon a time")
    assert ("turn_interrupted", run.turn_id) in h.lifecycle()
    assert ("turn_ended", run.turn_id) not in h.lifecycle()
    # A late answer for the interrupted turn changes nothing.
    before = len(h.outputs)
    h.handle(vi.SynthesizedAudio(piece_id=third.piece_id, data=one_second))
    h.handle(vi.WorkflowText(turn_id=run.turn_id, text="And then"))
    assert len(h.outputs) == before


def test_an_interrupt_cuts_the_reply_where_it_was_played_and_starts_no_turn() -> None:
    h = streamed(VoicePipelineConfig(playback="realtime"))
    before = len(h.outputs)
    h.handle(vi.Interrupt())  # nothing to interrupt: nothing happens
    assert len(h.outputs) == before
    h.audio(utterances("Tell me a story please."))
    (transcribe,) = h.take(effects.Transcribe)
    h.handle(vi.Transcribed(turn_id=transcribe.turn_id, text="Tell me a story"))
    (run,) = h.take(effects.RunWorkflow)
    h.handle(vi.WorkflowText(turn_id=run.turn_id, text="Once upon a time there was a fox. "))
    h.handle(vi.WorkflowText(turn_id=run.turn_id, text="It lived in a quiet forest near the sea, "))
    h.handle(vi.WorkflowText(turn_id=run.turn_id, text="far away. Every single morning it went. "))
    first, *rest = h.take(effects.Synthesize)
    h.handle(vi.SynthesizedAudio(piece_id=first.piece_id, data=silence(1000)))
    h.handle(vi.SynthesisDone(piece_id=first.piece_id))
    h.handle(vi.AudioPlayed(turn_id=run.turn_id, ms=500))
    turns_before = [e for e in h.lifecycle() if e[0] == "turn_started"]
    h.handle(vi.Interrupt())
    assert rest and [c.piece_id for c in h.take(effects.CancelSynthesis)] == [
        piece.piece_id for piece in rest
    ]
    assert [c.turn_id for c in h.take(effects.CancelWorkflow)] == [run.turn_id]
    (heard,) = h.take(effects.ReportHeard)
    assert heard.heard == "Once upon a time"
    assert h.lifecycle()[-1] == ("turn_interrupted", run.turn_id)
    assert [e for e in h.lifecycle() if e[0] == "turn_started"] == turns_before
    # The user speaks again: a turn like any other.
    h.audio(silence(300) + utterances("And now a song."))
    assert len(h.take(effects.Transcribe)) == 1


def test_without_reports_the_clock_estimates_what_was_heard() -> None:
    h = streamed(VoicePipelineConfig(playback="realtime"))
    h.audio(utterances("Tell me a story please."))
    h.answer_all(
        transcript=lambda e: "story",
        reply=lambda t: ["One two three four five six seven eight nine ten."],
        synthesize=lambda text: silence(2000),
    )
    turn = h.events(events.VoiceStreamEventAudio)[0].turn_id
    assert h.lifecycle()[-1] == ("turn_started", turn)  # played in real time: not over yet
    h.now += 0.5  # half a second of the 2 s reply played when the user speaks
    h.audio(speech_audio("Stop."))
    (heard,) = h.take(effects.ReportHeard)
    words = heard.heard.split()
    assert 1 <= len(words) <= 5
    assert ("turn_interrupted", turn) in h.lifecycle()


def test_a_turn_ends_when_its_audio_has_been_played() -> None:
    h = streamed(VoicePipelineConfig(playback="realtime"))
    h.audio(utterances("Hello there."))
    h.answer_all(synthesize=lambda text: silence(1000))
    turn = h.events(events.VoiceStreamEventAudio)[0].turn_id
    deadline = h.core.get_timer()
    assert deadline is not None
    h.now = deadline
    h.handle(vi.TimerFired(now=h.now))
    assert h.lifecycle()[-1] == ("turn_ended", turn)
    assert h.take(effects.ReportHeard) == []


@pytest.mark.parametrize("stage", ["transcription", "workflow", "synthesis"])
def test_a_failure_ends_its_turn_and_the_next_turn_goes_on(stage: str) -> None:
    h = streamed()
    h.audio(utterances("First question here."))
    (transcribe,) = h.take(effects.Transcribe)
    if stage == "transcription":
        h.handle(vi.TranscriptionFailed(turn_id=transcribe.turn_id, error="HTTP 500: boom"))
    else:
        h.handle(vi.Transcribed(turn_id=transcribe.turn_id, text="q"))
        (run,) = h.take(effects.RunWorkflow)
        h.handle(vi.WorkflowText(turn_id=run.turn_id, text="A first sentence of the answer. "))
        if stage == "workflow":
            h.handle(vi.WorkflowFailed(turn_id=run.turn_id, error="ValueError: bad"))
        else:
            (piece,) = h.take(effects.Synthesize)
            h.handle(vi.SynthesisFailed(piece_id=piece.piece_id, error="HTTP 429: slow down"))
            assert h.take(effects.CancelWorkflow)  # the rest of the reply is not wanted
    (error,) = h.events(events.VoiceStreamEventError)
    assert error.stage == stage and error.turn_id == transcribe.turn_id
    assert h.lifecycle() == [("turn_started", "turn_1"), ("turn_ended", "turn_1")]
    h.pending.clear()
    h.audio(utterances("Second question."))
    h.handle(vi.InputClosed())
    h.answer_all()
    assert h.lifecycle()[-3:] == [
        ("turn_started", "turn_2"),
        ("turn_ended", "turn_2"),
        ("session_ended", None),
    ]
    assert h.audio_out("turn_2")


def test_a_stuck_stage_times_out_on_the_injected_clock() -> None:
    h = streamed(VoicePipelineConfig(playback="instant", stage_timeout_s=5))
    h.audio(utterances("Anybody there?"))
    h.handle(vi.InputClosed())
    assert h.take(effects.Transcribe)
    deadline = h.core.get_timer()
    assert deadline is not None and deadline == pytest.approx(h.now + 5, abs=1.5)
    h.now = deadline
    h.handle(vi.TimerFired(now=h.now))
    (error,) = h.events(events.VoiceStreamEventError)
    assert error.stage == "transcription" and "5 s" in error.error
    assert h.take(effects.CancelTranscription)
    assert h.lifecycle()[-1] == ("session_ended", None)


def test_an_empty_transcript_ends_the_turn_without_an_answer() -> None:
    h = streamed()
    h.audio(utterances("Hmm."))
    h.answer_all(transcript=lambda e: "  ")
    assert not [o for o in h.outputs if isinstance(o, effects.RunWorkflow)]
    assert h.lifecycle() == [("turn_started", "turn_1"), ("turn_ended", "turn_1")]


def test_without_barge_in_turns_wait_and_the_wait_is_bounded() -> None:
    config = VoicePipelineConfig(playback="instant", barge_in=False, max_pending_turns=2)
    h = streamed(config)
    h.audio(utterances("One.", "Two.", "Three.", gap_ms=800))
    transcribes = h.take(effects.Transcribe)
    assert len(transcribes) == 2  # the third found one turn already waiting: dropped
    (error,) = h.events(events.VoiceStreamEventError)
    assert error.stage == "input" and error.turn_id == "turn_3"
    for effect in transcribes:
        h.handle(vi.Transcribed(turn_id=effect.turn_id, text=effect.turn_id))
    runs = h.take(effects.RunWorkflow)
    assert [r.turn_id for r in runs] == ["turn_1"]  # the second waits for the first
    h.handle(vi.WorkflowDone(turn_id="turn_1"))
    assert [r.turn_id for r in h.take(effects.RunWorkflow)] == ["turn_2"]


def test_a_long_turn_is_cut_and_goes_on_as_the_next() -> None:
    h = streamed(VoicePipelineConfig(playback="instant", max_turn_s=2))
    h.audio(silence(300) + speech_audio(" ".join(["speaking"] * 12)) + silence(1000))
    transcribes = h.take(effects.Transcribe)
    assert len(transcribes) >= 2
    assert len(transcribes[0].pcm) == 2 * RATE * 2
    assert not any(event == "turn_interrupted" for event, _ in h.lifecycle())


def test_a_greeting_that_says_nothing_makes_no_turn() -> None:
    h = CoreHarness(Pipeline(INSTANT, vad=EnergyVad(), greeting=True))
    h.start()
    h.answer_all(greeting=[])
    assert h.lifecycle() == []
    h2 = CoreHarness(Pipeline(INSTANT, vad=EnergyVad(), greeting=True))
    h2.start()
    h2.answer_all(greeting=["Hello! I am listening."])
    assert h2.lifecycle() == [("turn_started", "greeting_1"), ("turn_ended", "greeting_1")]
    assert h2.audio_out("greeting_1")


def test_odd_chunks_of_synthesised_audio_come_out_as_whole_samples() -> None:
    h = CoreHarness(Pipeline(INSTANT))
    h.start()
    h.handle(vi.AudioChunk(data=silence(100)))
    h.handle(vi.InputClosed())
    (t,) = h.take(effects.Transcribe)
    h.handle(vi.Transcribed(turn_id=t.turn_id, text="x"))
    h.handle(vi.WorkflowText(turn_id=t.turn_id, text="Hello."))
    h.handle(vi.WorkflowDone(turn_id=t.turn_id))
    (piece,) = h.take(effects.Synthesize)
    for data in (b"\x01", b"\x02\x03", b"\x04"):
        h.handle(vi.SynthesizedAudio(piece_id=piece.piece_id, data=data))
    h.handle(vi.SynthesisDone(piece_id=piece.piece_id))
    chunks = [e.data for e in h.events(events.VoiceStreamEventAudio)]
    assert all(len(c) % 2 == 0 for c in chunks)
    assert b"".join(chunks) == b"\x01\x02\x03\x04"


def test_misuse_is_a_local_protocol_error() -> None:
    core = Pipeline(INSTANT)
    with pytest.raises(LocalProtocolError, match="before Start"):
        core.handle(vi.AudioChunk(data=b"\x00\x00"), now=0)
    core.handle(vi.Start(), now=0)
    with pytest.raises(LocalProtocolError, match="already"):
        core.handle(vi.Start(), now=0)
    with pytest.raises(LocalProtocolError, match="bytes"):
        core.handle(vi.AudioChunk(data="text"), now=0)  # type: ignore[arg-type]
    core.handle(vi.InputClosed(), now=0)
    with pytest.raises(LocalProtocolError, match="after"):
        core.handle(vi.AudioChunk(data=b"\x00\x00"), now=0)
    with pytest.raises(LocalProtocolError):
        VoicePipelineConfig(max_synthesis_in_flight=0)
    with pytest.raises(LocalProtocolError):
        VoicePipelineConfig(playback="later")  # type: ignore[arg-type]


def test_events_show_audio_briefly() -> None:
    event = events.VoiceStreamEventAudio(data=bytes(48000), turn_id="turn_1", piece_id="piece_1")
    assert "48000 bytes" in repr(event) and len(repr(event)) < 120
    assert "bytes" in repr(effects.Transcribe(turn_id="t", pcm=bytes(4800)))
