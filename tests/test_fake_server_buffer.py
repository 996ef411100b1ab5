"""The fake server's input audio buffer is bounded: with VAD on it keeps only what can still
become part of a turn (the prefix padding, then the current speech), and in every mode it
holds at most ``max_input_audio_s`` of audio (docs/fake-server.md, "The input audio buffer")."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fake_helpers import Client, errors, events, kinds, one, silence, utterance
from realtime_sansio.protocol import PCM16, PCMU, LocalProtocolError, wire
from realtime_sansio.protocol.fake import (
    EnergyVad,
    FakeRealtimeServer,
    FakeServerConfig,
    synthesize_speech,
)
from realtime_sansio.protocol.testing.server import MAX_INPUT_AUDIO_MS

TEN_MINUTES_MS = 10 * 60 * 1000


def fake(**config: Any) -> tuple[Client, list[bytes]]:
    """A client of a fake that hands each committed turn's audio to the test."""
    turns: list[bytes] = []

    def transcript(index: int, audio: bytes) -> str:
        turns.append(audio)
        return f"turn {index}"

    server = FakeRealtimeServer(FakeServerConfig(transcripts=transcript, **config))
    return Client(server), turns


def append_silence(client: Client, ms: int, *, chunk_ms: int = 10_000) -> list[Any]:
    """``ms`` of silence in large appends (cheap), the virtual clock moving along."""
    out = []
    for _ in range(ms // chunk_ms):
        out += client.send(wire.InputAudioBufferAppend(audio=silence(PCM16, chunk_ms)))
        client.now += chunk_ms / 1000
    return out


def test_ten_minutes_of_silence_under_vad_leave_only_the_prefix_padding() -> None:
    # Regression: the buffer kept every byte (27 MiB per 10 minutes of streamed silence).
    client, _ = fake()
    out = append_silence(client, TEN_MINUTES_MS)
    assert errors(out) == [] and "input_audio_buffer.speech_started" not in kinds(out)
    kept_ms = len(client.server.model.input_buffer) / 48
    assert 300 <= kept_ms <= 300 + 20  # the prefix padding, and a VAD frame not heard yet


@pytest.mark.parametrize("prefix_padding_ms", [300, 0, 1000])
def test_speech_after_long_silence_commits_with_its_prefix_padding(
    prefix_padding_ms: int,
) -> None:
    client, turns = fake()
    detection = {"type": "server_vad", "prefix_padding_ms": prefix_padding_ms}
    client.update(audio={"input": {"turn_detection": detection}}, output_modalities=["text"])
    append_silence(client, TEN_MINUTES_MS)
    speech = synthesize_speech("What is the weather in Paris today")
    out = client.stream(speech + silence(PCM16, 1000))
    started = one(out, wire.InputAudioBufferSpeechStarted)
    # The turn is the stream from prefix_padding_ms before the first loud frame on, and
    # speech_started says where that is, on the session's clock (what was dropped counts).
    (speech_onset,) = [e.ms for e in EnergyVad(PCM16, prefix_padding_ms=0).feed(speech)][:1]
    assert started.audio_start_ms == TEN_MINUTES_MS + speech_onset - prefix_padding_ms
    streamed = silence(PCM16, TEN_MINUTES_MS) + speech + silence(PCM16, 1000)
    start = (TEN_MINUTES_MS + speech_onset - prefix_padding_ms) * 48
    (turn,) = turns
    assert turn == streamed[start : start + len(turn)]
    assert len(turn) > len(speech) - speech_onset * 48


def test_push_to_talk_past_the_cap_is_refused_append_by_append() -> None:
    client, turns = fake(max_input_audio_s=2.0)
    client.update(audio={"input": {"turn_detection": None}})
    assert errors(client.send(wire.InputAudioBufferAppend(audio=silence(PCM16, 1500)))) == []
    (error,) = errors(
        client.send(wire.InputAudioBufferAppend(event_id="a2", audio=silence(PCM16, 600)))
    )
    assert (error.type, error.code, error.event_id) == (
        "invalid_request_error",
        "input_audio_buffer_full",
        "a2",
    )
    assert "at most 2 s of audio" in error.message
    assert len(client.server.model.input_buffer) == 1500 * 48  # nothing lost, nothing added
    assert errors(client.send(wire.InputAudioBufferAppend(audio=silence(PCM16, 500)))) == []
    assert "input_audio_buffer.committed" in kinds(client.send(wire.InputAudioBufferCommit()))
    assert len(turns[0]) == 2000 * 48
    assert errors(client.send(wire.InputAudioBufferAppend(audio=silence(PCM16, 1500)))) == []


def test_speech_that_reaches_the_cap_under_vad_ends_its_turn_there() -> None:
    client, turns = fake(max_input_audio_s=2.0)
    client.update(output_modalities=["text"])
    # Five seconds of speech without a pause: no turn may outgrow the buffer. Its level dips
    # for one 20 ms frame in five, as speech does between syllables (too short to end the
    # turn; enough to keep the VAD's noise floor down: steady sound would end it by itself).
    words = " ".join(["weather"] * 40)
    speech = np.frombuffer(synthesize_speech(words), "<i2")
    loud = np.where(np.abs(speech) < 2000, 2000, speech).astype("<i2")[: 5 * 24_000].copy()
    for start in range(0, len(loud), 2400):
        loud[start : start + 480] = 0
    out = client.stream(loud.tobytes())
    assert errors(out) == []
    assert len(events(out, wire.InputAudioBufferCommitted)) >= 2
    assert all(len(turn) <= 2 * 48_000 for turn in turns)
    assert len(client.server.model.input_buffer) <= 2 * 48_000


def test_an_append_longer_than_the_cap_is_refused_in_every_mode() -> None:
    client, _ = fake(max_input_audio_s=1.0)
    (error,) = errors(client.send(wire.InputAudioBufferAppend(audio=silence(PCM16, 1100))))
    assert error.code == "input_audio_buffer_full"


def test_the_cap_is_in_time_whatever_the_format() -> None:
    client, _ = fake(max_input_audio_s=1.0)
    client.update(audio={"input": {"format": PCMU.to_wire(), "turn_detection": None}})
    assert errors(client.send(wire.InputAudioBufferAppend(audio=silence(PCMU, 1000)))) == []
    (error,) = errors(client.send(wire.InputAudioBufferAppend(audio=silence(PCMU, 20))))
    assert error.code == "input_audio_buffer_full"


def test_the_default_cap() -> None:
    assert FakeServerConfig().max_input_audio_s * 1000 == MAX_INPUT_AUDIO_MS == 300_000


@pytest.mark.parametrize("value", [0.0, -1.0, float("inf"), float("nan")])
def test_a_bad_cap_is_refused(value: float) -> None:
    with pytest.raises(LocalProtocolError, match="max_input_audio_s"):
        FakeServerConfig(max_input_audio_s=value)


def test_utterances_still_make_turns() -> None:
    client, turns = fake()
    client.update(output_modalities=["text"])
    out = client.stream(utterance("hello there") + utterance("and again"))
    assert len(events(out, wire.InputAudioBufferCommitted)) == 2
    assert len(turns) == 2
