"""Durations, framing, float conversion, downmixing and WAV files."""

from __future__ import annotations

import io
import math
import wave
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from realtime_sansio.protocol import audio
from realtime_sansio.protocol.audio import (
    PCM16,
    PCMA,
    PCMU,
    AudioFormat,
    bytes_for_ms,
    duration_ms,
    float32_to_pcm16,
    pcm16_to_float32,
    read_wav,
    split_frames,
    to_mono,
    write_wav,
)
from realtime_sansio.protocol.errors import LocalProtocolError

formats = st.sampled_from([PCM16, PCMU, PCMA])


def test_package_exports_its_public_names() -> None:
    for name in audio.__all__:
        assert getattr(audio, name) is not None
    assert {"AudioFormat", "PCM16", "PCMU", "PCMA", "resample", "StreamingResampler"} <= set(
        audio.__all__
    )


def test_durations_of_the_realtime_formats() -> None:
    assert duration_ms(PCM16, 48) == 1.0
    assert duration_ms(PCM16, 48000) == 1000.0
    assert duration_ms(PCM16, 4800) == 100.0
    assert duration_ms(PCMU, 8) == 1.0
    assert duration_ms(PCMA, 160) == 20.0
    assert duration_ms(PCM16, 0) == 0.0
    with pytest.raises(LocalProtocolError):
        duration_ms(PCM16, -2)


def test_bytes_for_ms_rounds_down_to_whole_samples() -> None:
    assert bytes_for_ms(PCM16, 20) == 960
    assert bytes_for_ms(PCM16, 1000) == 48000
    assert bytes_for_ms(PCMU, 20) == 160
    assert bytes_for_ms(PCM16, 0.05) == 2  # 1.2 samples
    assert bytes_for_ms(PCM16, 0.04) == 0  # 0.96 samples
    assert bytes_for_ms(PCMU, 0.3) == 2  # 2.4 samples
    # A position computed in floats just below a sample boundary keeps that sample.
    assert bytes_for_ms(PCMU, 0.35 - 0.1) == 2
    for bad in (-1, math.nan, math.inf):
        with pytest.raises(LocalProtocolError):
            bytes_for_ms(PCM16, bad)


@given(formats, st.integers(0, 10**7))
def test_bytes_for_whole_ms_is_exact(fmt: AudioFormat, ms: int) -> None:
    assert bytes_for_ms(fmt, ms) == ms * fmt.bytes_per_second // 1000
    assert duration_ms(fmt, bytes_for_ms(fmt, ms)) == ms


@given(formats, st.floats(0, 10**6, allow_nan=False))
def test_bytes_for_ms_is_whole_samples_never_past_the_time(fmt: AudioFormat, ms: float) -> None:
    n = bytes_for_ms(fmt, ms)
    assert n % fmt.bytes_per_sample == 0
    one_sample = 1000 / fmt.rate
    assert ms - one_sample < duration_ms(fmt, n) <= ms + 1e-6 * one_sample


def test_split_frames_keeps_the_last_partial_frame() -> None:
    data = bytes(range(256)) * 9 + bytes(96)  # 2400 bytes: 50 ms of PCM16
    frames = split_frames(data, PCM16, 20)
    assert [len(f) for f in frames] == [960, 960, 480]
    assert b"".join(frames) == data
    assert [len(f) for f in split_frames(bytes(400), PCMU, 20)] == [160, 160, 80]
    assert split_frames(b"", PCM16, 20) == []


@given(formats, st.integers(0, 5000), st.integers(1, 100))
def test_split_frames_concatenate_back(fmt: AudioFormat, n: int, frame_ms: int) -> None:
    data = bytes(n * fmt.bytes_per_sample)
    frames = split_frames(data, fmt, frame_ms)
    assert b"".join(frames) == data
    assert all(len(f) == bytes_for_ms(fmt, frame_ms) for f in frames[:-1])


def test_split_frames_rejects_bad_arguments() -> None:
    with pytest.raises(LocalProtocolError):
        split_frames(bytes(3), PCM16, 20)
    with pytest.raises(LocalProtocolError):
        split_frames(bytes(4), PCM16, 0)


def test_pcm16_to_float32_divides_by_32768() -> None:
    pcm = np.array([-32768, -16384, 0, 1, 32767], "<i2").tobytes()
    x = pcm16_to_float32(pcm)
    assert x.dtype == np.float32
    assert x.tolist() == [-1.0, -0.5, 0.0, 1 / 32768, 32767 / 32768]
    with pytest.raises(LocalProtocolError):
        pcm16_to_float32(b"\x00")


def test_float32_round_trip_is_exact_for_every_sample() -> None:
    pcm = np.arange(-32768, 32768, dtype="<i2").tobytes()
    assert float32_to_pcm16(pcm16_to_float32(pcm)) == pcm


def test_float32_to_pcm16_rounds_and_clips() -> None:
    x = np.array([1.5, 1.0, -1.0, -2.0, 0.5 / 32768, 1.5 / 32768, -0.6 / 32768, np.inf])
    out = np.frombuffer(float32_to_pcm16(x.astype(np.float32)), "<i2").tolist()
    assert out == [32767, 32767, -32768, -32768, 0, 2, -1, 32767]
    stereo = np.array([[0.5, -0.5], [0.25, -0.25]], np.float32)
    assert np.frombuffer(float32_to_pcm16(stereo), "<i2").tolist() == [
        16384,
        -16384,
        8192,
        -8192,
    ]
    assert float32_to_pcm16([0.0, 0.5]) == np.array([0, 16384], "<i2").tobytes()
    with pytest.raises(LocalProtocolError):
        float32_to_pcm16(np.array([0.0, np.nan]))


def test_to_mono_averages_the_channels() -> None:
    stereo = np.array([[100, 300], [-1, -2], [32767, 32767], [-32768, 32767], [1, 2]], "<i2")
    mono = np.frombuffer(to_mono(stereo.tobytes(), 2), "<i2").tolist()
    assert mono == [200, -2, 32767, 0, 2]  # -1.5 and 1.5 round half to even
    pcm = np.arange(12, dtype="<i2").tobytes()
    assert np.frombuffer(to_mono(pcm, 3), "<i2").tolist() == [1, 4, 7, 10]
    assert to_mono(pcm, 1) == pcm
    with pytest.raises(LocalProtocolError):
        to_mono(bytes(6), 2)
    with pytest.raises(LocalProtocolError):
        to_mono(bytes(4), 0)


def _tone_pcm(channels: int) -> bytes:
    n = np.arange(2400)
    mono = np.rint(8000 * np.sin(2 * np.pi * 440 * n / 24000)).astype("<i2")
    return np.repeat(mono, channels).tobytes()


@pytest.mark.parametrize("channels", [1, 2])
def test_wav_round_trip_through_a_path(tmp_path: Path, channels: int) -> None:
    pcm = _tone_pcm(channels)
    path = tmp_path / "tone.wav"
    write_wav(path, pcm, 24000, channels)
    assert read_wav(path) == (pcm, 24000, channels)
    assert read_wav(str(path)) == (pcm, 24000, channels)
    with wave.open(str(path), "rb") as w:  # a standard file any tool can read
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (channels, 2, 24000)


def test_wav_round_trip_through_a_file_object_left_open() -> None:
    pcm = _tone_pcm(1)
    buf = io.BytesIO()
    write_wav(buf, pcm, 16000)
    assert not buf.closed
    buf.seek(0)
    assert read_wav(buf) == (pcm, 16000, 1)
    assert not buf.closed


class _Unseekable(io.RawIOBase):
    """A write-only stream, like a pipe: no tell, no seek."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        chunk = bytes(b)
        self.data += chunk
        return len(chunk)

    def tell(self) -> int:
        raise OSError("not seekable")

    def seek(self, offset: int, whence: int = 0) -> int:
        raise OSError("not seekable")


def test_wav_can_be_written_to_an_unseekable_stream() -> None:
    pcm = _tone_pcm(1)
    sink = _Unseekable()
    write_wav(sink, pcm, 8000)  # type: ignore[arg-type]
    assert read_wav(io.BytesIO(bytes(sink.data))) == (pcm, 8000, 1)


def test_read_wav_rejects_other_sample_widths_clearly() -> None:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(bytes(100))
    buf.seek(0)
    with pytest.raises(LocalProtocolError, match=r"16-bit.*8-bit"):
        read_wav(buf)


@pytest.mark.parametrize("content", [b"", b"not a wav file at all", b"RIFF\x00\x00"])
def test_read_wav_rejects_files_that_are_not_wav(content: bytes) -> None:
    with pytest.raises(LocalProtocolError, match="WAV"):
        read_wav(io.BytesIO(content))


def test_write_wav_rejects_bad_arguments() -> None:
    with pytest.raises(LocalProtocolError):
        write_wav(io.BytesIO(), bytes(3), 24000)
    with pytest.raises(LocalProtocolError):
        write_wav(io.BytesIO(), bytes(4), 0)
    with pytest.raises(LocalProtocolError):
        write_wav(io.BytesIO(), bytes(6), 24000, channels=2)
    with pytest.raises(LocalProtocolError):
        write_wav(io.BytesIO(), bytes(4), 24000, channels=0)
