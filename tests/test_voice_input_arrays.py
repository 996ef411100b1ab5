"""The pipeline's inputs take numpy arrays as well as bytes: int16 as it is, float scaled to
PCM16, ``(frames, channels)`` downmixed; anything else is refused with what it was. A streamed
input carries partial frames, feeds one run, and refuses audio after it is closed."""

from __future__ import annotations

import numpy as np
import pytest
from realtime_sansio.protocol import LocalProtocolError
from realtime_sansio.protocol.audio import float32_to_pcm16, to_mono
from realtime_sansio.transports.voice import AudioInput, StreamedAudioInput

pytestmark = pytest.mark.anyio

SAMPLES = np.array([0, 1000, -1000, 32767], dtype=np.int16)


def test_int16_and_float_arrays_become_pcm16() -> None:
    assert AudioInput(SAMPLES).pcm == SAMPLES.astype("<i2").tobytes()
    floats = np.array([0.0, 0.5, -0.5, 1.0], dtype=np.float32)
    assert AudioInput(floats).pcm == float32_to_pcm16(floats)
    assert repr(AudioInput(np.zeros(24000, dtype=np.int16))) == "AudioInput(1.00 s)"


def test_a_frames_by_channels_array_is_downmixed() -> None:
    stereo = np.stack([SAMPLES, SAMPLES // 2], axis=1)
    turn = AudioInput(stereo, channels=2)
    assert turn.pcm == to_mono(stereo.astype("<i2").tobytes(), 2)


@pytest.mark.parametrize(
    ("audio", "channels", "says"),
    [
        ("text", 1, "audio must be bytes or a numpy array, not str"),
        (np.zeros((4, 3), dtype=np.int16), 2, r"must have 2 columns, got shape \(4, 3\)"),
        (np.zeros((2, 2, 2), dtype=np.int16), 1, r"1-D or \(frames, channels\), got \(2, 2, 2\)"),
        (np.zeros(4, dtype=np.int32), 1, "audio arrays must be int16 or float, not int32"),
        (b"\x00\x00", 0, "channels must be an int >= 1, got 0"),
        (b"\x00\x00", True, "channels must be an int >= 1, got True"),
    ],
)
def test_audio_that_is_not_pcm_is_refused(audio: object, channels: int, says: str) -> None:
    with pytest.raises(LocalProtocolError, match=says):
        AudioInput(audio, channels=channels)  # type: ignore[arg-type]


async def test_a_streamed_input_carries_partial_frames_and_feeds_one_run() -> None:
    streamed = StreamedAudioInput(channels=2)
    await streamed.add_audio(b"\x10\x00\x20")  # not yet a whole stereo frame: nothing sent
    await streamed.add_audio(b"\x00")
    streamed.close()
    received = await streamed.chunks()
    assert [chunk async for chunk in received] == [to_mono(b"\x10\x00\x20\x00", 2)]
    with pytest.raises(LocalProtocolError, match="feeds one pipeline run only"):
        await streamed.chunks()
    with pytest.raises(LocalProtocolError, match=r"add_audio after close\(\)"):
        await streamed.add_audio(b"\x00\x00\x00\x00")
