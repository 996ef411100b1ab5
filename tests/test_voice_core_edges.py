"""The voice pipeline's core at its edges: misuse after the input closed, odd bytes carried,
the bounds on waiting text and a piece's audio, and the detectors' settings refused."""

from __future__ import annotations

from typing import Any

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
from realtime_sansio.protocol.voice.config import TTSSettings
from realtime_sansio.protocol.voice.silero import SileroVad
from voice_helpers import RATE, CoreHarness, silence, speech_audio

INSTANT = VoicePipelineConfig(playback="instant")


def one_turn(config: VoicePipelineConfig = INSTANT) -> tuple[CoreHarness, str]:
    """A pipeline without VAD whose one turn is transcribed and now runs its workflow."""
    h = CoreHarness(Pipeline(config))
    h.start()
    h.handle(vi.AudioChunk(data=silence(100)))
    h.handle(vi.InputClosed())
    (transcribe,) = h.take(effects.Transcribe)
    h.handle(vi.Transcribed(turn_id=transcribe.turn_id, text="go"))
    (run,) = h.take(effects.RunWorkflow)
    return h, run.turn_id


def test_input_after_the_input_closed_is_refused_while_turns_go_on() -> None:
    h = CoreHarness(Pipeline(INSTANT))
    h.start()
    h.handle(vi.AudioChunk(data=b"\x01"))  # half a sample: carried, nothing to hear yet
    assert h.core.turns == []
    h.handle(vi.AudioChunk(data=b"\x00" + silence(100)))
    assert h.core.turns == ["turn_1"]  # listening
    h.handle(vi.InputClosed())
    assert h.handle(vi.InputClosed()) == []  # closing twice is closing once
    with pytest.raises(LocalProtocolError, match="AudioChunk after InputClosed"):
        h.handle(vi.AudioChunk(data=b"\x00\x00"))
    (transcribe,) = h.take(effects.Transcribe)
    assert transcribe.pcm == b"\x01\x00" + silence(100)
    with pytest.raises(LocalProtocolError, match=r"Pipeline\.handle takes a voice input, not"):
        h.handle("hello")


def test_workflow_text_must_be_text_and_empty_text_says_nothing() -> None:
    h, turn = one_turn()
    with pytest.raises(LocalProtocolError, match=r"WorkflowText\.text must be a str"):
        h.handle(vi.WorkflowText(turn_id=turn, text=b"bytes"))  # type: ignore[arg-type]
    h.handle(vi.WorkflowText(turn_id=turn, text=""))
    h.handle(vi.WorkflowDone(turn_id=turn))
    assert h.take(effects.Synthesize) == []
    assert h.lifecycle()[-1] == ("session_ended", None)


def test_text_waiting_for_synthesis_is_bounded() -> None:
    config = VoicePipelineConfig(
        playback="instant", max_synthesis_in_flight=1, max_pending_text_chars=100
    )
    h, turn = one_turn(config)
    for n in range(6):
        h.handle(vi.WorkflowText(turn_id=turn, text=f"Here is sentence {n} of a long reply. "))
    (error,) = h.events(events.VoiceStreamEventError)
    assert error.stage == "workflow" and error.turn_id == turn
    assert "more than 100 characters wait for synthesis" in error.error
    assert h.take(effects.CancelWorkflow)


def test_a_piece_held_back_with_too_much_audio_fails() -> None:
    config = VoicePipelineConfig(playback="instant", max_piece_audio_s=0.5)
    h, turn = one_turn(config)
    h.handle(vi.WorkflowText(turn_id=turn, text="The first sentence is here. "))
    h.handle(vi.WorkflowText(turn_id=turn, text="And a second one follows it."))
    h.handle(vi.WorkflowDone(turn_id=turn))
    first, second = h.take(effects.Synthesize)
    # The second piece's audio waits for the first's; more than half a second of it fails.
    h.handle(vi.SynthesizedAudio(piece_id=second.piece_id, data=silence(600)))
    (error,) = h.events(events.VoiceStreamEventError)
    assert error.stage == "synthesis"
    assert f"a piece's audio is longer than {RATE}" in error.error
    cancelled = {e.piece_id for e in h.take(effects.CancelSynthesis)}
    assert cancelled == {first.piece_id, second.piece_id}


def test_a_turn_that_ended_ignores_what_comes_later() -> None:
    h, turn = one_turn()
    h.handle(vi.WorkflowFailed(turn_id=turn, error="ValueError: bad"))
    before = len(h.outputs)
    h.handle(vi.WorkflowText(turn_id=turn, text="Too late."))
    h.handle(vi.WorkflowDone(turn_id=turn))
    assert h.outputs[before:] == []


def test_the_detectors_and_settings_refuse_what_cannot_work() -> None:
    with pytest.raises(LocalProtocolError, match=r"min_level_dbfs must be -120\.\.0"):
        EnergyVad(min_level_dbfs=3.0)
    with pytest.raises(LocalProtocolError, match="floor_window_ms must be >= 200"):
        EnergyVad(floor_window_ms=100)
    with pytest.raises(LocalProtocolError, match="SileroVad needs 0 < stop_threshold <= threshold"):
        SileroVad(threshold=0.3, stop_threshold=0.4)
    with pytest.raises(LocalProtocolError, match="a number > 0"):
        VoicePipelineConfig(max_turn_s=0)
    with pytest.raises(LocalProtocolError, match=r"a number from 0\.25 to 4\.0, or None"):
        TTSSettings(speed=5.0)
    assert TTSSettings(speed=1.5).speed == 1.5


def _silero_rating_every_frame() -> SileroVad:
    # The fake's synthetic speech is borderline for Silero: the gated detector starts its
    # model cold at the first loud frame and does not hear it, rating every frame does.
    return SileroVad(skip_db=None)


@pytest.mark.parametrize("make", [EnergyVad, _silero_rating_every_frame])
def test_a_detector_reset_forgets_the_speech_but_keeps_counting(make: Any) -> None:
    speech = speech_audio("Hello there, how are you today? I hope all is well.")
    vad = make()
    vad.feed(silence(500) + speech[: 2 * RATE])  # a second into the speech
    assert vad.speaking
    position = vad.position_ms
    vad.reset()
    assert not vad.speaking and vad.position_ms == position
    if make is EnergyVad:  # (the fake's synthetic speech is too little like speech for Silero)
        edges = vad.feed(silence(600) + speech)
        assert edges and edges[0].started and edges[0].ms > position
