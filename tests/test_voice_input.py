"""The pipeline's inputs at the rates files come at: 44.1, 22.05, 11.025, 32 and 96 kHz.

``AudioInput`` (and ``from_wav``) and ``StreamedAudioInput`` downmix and resample any rate to
the pipeline's 24 kHz mono with the library's own functions; the two agree byte for byte.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from realtime_sansio.protocol import LocalProtocolError
from realtime_sansio.protocol.audio import resample, to_mono, write_wav
from realtime_sansio.transports.voice import AudioInput, StreamedAudioInput

FILE_RATES = [44100, 22050, 11025, 32000, 96000, 44101]


def stereo_tone(rate: int, seconds: float) -> bytes:
    """440 Hz on the left, 1 kHz on the right, interleaved PCM16."""
    t = np.arange(round(rate * seconds)) / rate
    left = 8000 * np.sin(2 * np.pi * 440 * t)
    right = 8000 * np.sin(2 * np.pi * 1000 * t)
    return np.rint(np.stack([left, right], axis=1)).astype("<i2").tobytes()


def wav_bytes(pcm: bytes, rate: int, channels: int) -> bytes:
    file = io.BytesIO()
    write_wav(file, pcm, rate, channels)
    return file.getvalue()


@pytest.mark.parametrize("rate", FILE_RATES)
def test_a_wav_at_any_rate_becomes_24_khz_mono(rate: int) -> None:
    seconds = 0.5
    pcm = stereo_tone(rate, seconds)
    turn = AudioInput.from_wav(wav_bytes(pcm, rate, 2))
    assert turn.pcm == resample(to_mono(pcm, 2), rate, 24000)
    frames = len(pcm) // 4
    assert len(turn.pcm) // 2 == math.floor(frames * 24000 / rate + 0.5)
    # Both tones are there at 24 kHz, each at half its level (the mean of the channels).
    out = np.frombuffer(turn.pcm, "<i2").astype(np.float64)[2400:-2400]
    t = (np.arange(len(out)) + 2400) / 24000
    for freq in (440, 1000):
        level = 2 * abs(np.mean(out * np.exp(-2j * np.pi * freq * t)))
        assert level == pytest.approx(4000, rel=0.01)


@pytest.mark.anyio
@pytest.mark.parametrize("rate", [44100, 22050, 11025])
async def test_streamed_input_at_any_rate_equals_the_one_shot_conversion(rate: int) -> None:
    pcm = stereo_tone(rate, 1.0)
    streamed = StreamedAudioInput(sample_rate=rate, channels=2, max_buffered_chunks=1000)
    chunk = 4 * rate // 50  # 20 ms of stereo frames
    for start in range(0, len(pcm), chunk + 2):  # cut through frames too
        await streamed.add_audio(pcm[start : start + chunk + 2])
    streamed.close()
    received = await streamed.chunks()
    out = b"".join([piece async for piece in received]) + streamed.tail()
    whole = AudioInput(pcm, sample_rate=rate, channels=2).pcm
    # The filter's look-ahead, held back until close(), comes as the tail: nothing is lost.
    assert out == whole
    assert streamed.tail() == b""  # given once


@pytest.mark.parametrize(
    ("rate", "message"),
    [
        (0, "sample_rate must be a whole number of Hz from 1"),
        (44100.0, "sample_rate must be a whole number of Hz .* got 44100.0"),
        (50, "cannot resample 50 Hz to 24000 Hz: the rates may differ by a factor of 256"),
    ],
)
def test_a_rate_the_resampler_cannot_take_is_a_clear_error(rate: int, message: str) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        AudioInput(bytes(100), sample_rate=rate)
    with pytest.raises(LocalProtocolError, match=message):
        StreamedAudioInput(sample_rate=rate)


def test_a_wav_at_a_rate_too_far_from_24_khz_says_so() -> None:
    with pytest.raises(LocalProtocolError, match="cannot resample 8 Hz to 24000 Hz"):
        AudioInput.from_wav(wav_bytes(bytes(16), 8, 1))
