"""The fake server's speech-like audio and its energy VAD."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from realtime_sansio.protocol import PCM16, PCMA, PCMU, AudioFormat
from realtime_sansio.protocol.audio import duration_ms
from realtime_sansio.protocol.fake import (
    EnergyVad,
    SpeechEdge,
    speech_duration_ms,
    synthesize_speech,
    threshold_dbfs,
)

SENTENCE = "It is sunny in Paris today. Take a hat!"


def silence(fmt: AudioFormat, ms: int) -> bytes:
    # G.711's silence is the code of zero, not the byte zero.
    code = {"audio/pcm": b"\x00\x00", "audio/pcmu": b"\xff", "audio/pcma": b"\xd5"}[fmt.type]
    return code * (fmt.rate * ms // 1000)


@pytest.mark.parametrize("fmt", [PCM16, PCMU, PCMA])
def test_speech_lasts_as_long_as_its_words(fmt: AudioFormat) -> None:
    audio = synthesize_speech(SENTENCE, fmt)
    assert duration_ms(fmt, len(audio)) == pytest.approx(speech_duration_ms(SENTENCE), abs=1)
    longer = synthesize_speech(SENTENCE + " And a scarf for the evening wind.", fmt)
    assert len(longer) > len(audio)


def test_speech_is_deterministic_loud_and_not_clipped() -> None:
    audio = synthesize_speech(SENTENCE)
    assert audio == synthesize_speech(SENTENCE)
    samples = np.frombuffer(audio, "<i2").astype(float)
    assert 0 < np.max(np.abs(samples)) < 32767
    rms_dbfs = 20 * np.log10(np.sqrt(np.mean(samples**2)) / 32768)
    assert -35 < rms_dbfs < -10
    assert synthesize_speech("") == b""


@pytest.mark.parametrize("fmt", [PCM16, PCMU, PCMA])
def test_vad_hears_speech_between_silences(fmt: AudioFormat) -> None:
    vad = EnergyVad(fmt, prefix_padding_ms=300, silence_duration_ms=500)
    speech = synthesize_speech(SENTENCE, fmt)
    edges = vad.feed(silence(fmt, 1000) + speech + silence(fmt, 1000))
    assert [e.started for e in edges] == [True, False]
    start, stop = edges[0].ms, edges[1].ms
    assert start == 1000 - 300  # reported prefix_padding_ms before the first loud frame
    speech_end = 1000 + speech_duration_ms(SENTENCE)
    assert speech_end - 400 <= stop <= speech_end + 20


def test_vad_stays_quiet_on_silence_and_keeps_position() -> None:
    vad = EnergyVad(PCM16)
    assert vad.feed(silence(PCM16, 2000)) == []
    assert vad.position_ms == 2000
    assert not vad.speaking


def test_threshold_maps_to_levels() -> None:
    assert threshold_dbfs(0.5) == -45
    assert threshold_dbfs(0) == -75
    assert threshold_dbfs(1) == -15
    loud_only = EnergyVad(PCM16, threshold=1.0)
    assert loud_only.feed(synthesize_speech(SENTENCE)) == []


@settings(max_examples=30)
@given(st.lists(st.integers(1, 9000), min_size=1, max_size=30))
def test_vad_edges_do_not_depend_on_chunking(cuts: list[int]) -> None:
    audio = (
        silence(PCM16, 600) + synthesize_speech("Hello there. How are you?") + silence(PCM16, 900)
    )
    whole = EnergyVad(PCM16).feed(audio)
    vad = EnergyVad(PCM16)
    edges: list[SpeechEdge] = []
    position = 0
    for cut in cuts:
        edges += vad.feed(audio[position : position + cut])
        position += cut
    edges += vad.feed(audio[position:])
    assert edges == whole
