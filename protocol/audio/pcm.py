"""Durations, framing, float conversion and downmixing of raw audio buffers.

Durations are format-aware: 24 kHz PCM16 is 48 bytes per millisecond, 8 kHz G.711 is 8.
Positions in bytes are always whole samples, so that a truncation point computed from a
playback time can never split a sample.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

from ..errors import LocalProtocolError
from .formats import AudioFormat

__all__ = [
    "bytes_for_ms",
    "duration_ms",
    "float32_to_pcm16",
    "pcm16_to_float32",
    "split_frames",
    "to_mono",
]

_I16: Final = np.dtype("<i2")
# A position this close below a sample boundary counts as on it: a time computed in floats,
# such as 0.35 - 0.1 ms at 8 kHz (1.9999999999999998 samples), must not lose a sample.
_SAMPLE_EPSILON: Final = 1e-9


def duration_ms(fmt: AudioFormat, nbytes: int) -> float:
    """How many milliseconds ``nbytes`` of audio in ``fmt`` last."""
    if nbytes < 0:
        raise LocalProtocolError(f"a byte count cannot be negative, got {nbytes}")
    return nbytes * 1000 / fmt.bytes_per_second


def bytes_for_ms(fmt: AudioFormat, ms: float) -> int:
    """The byte length of ``ms`` milliseconds of ``fmt``, rounded down to whole samples."""
    if not math.isfinite(ms) or ms < 0:
        raise LocalProtocolError(f"a duration must be finite and >= 0 ms, got {ms!r}")
    samples = math.floor(ms * fmt.rate / 1000 + _SAMPLE_EPSILON)
    return samples * fmt.bytes_per_sample


def split_frames(data: bytes, fmt: AudioFormat, frame_ms: int) -> list[bytes]:
    """Cut ``data`` into frames of ``frame_ms`` milliseconds; a shorter last frame is kept."""
    if len(data) % fmt.bytes_per_sample:
        raise LocalProtocolError(
            f"{fmt.type} data must be whole {fmt.bytes_per_sample}-byte samples,"
            f" got {len(data)} bytes"
        )
    size = bytes_for_ms(fmt, frame_ms) if frame_ms > 0 else 0
    if size == 0:
        raise LocalProtocolError(f"a frame must hold at least one sample, got {frame_ms!r} ms")
    view = memoryview(data)  # slice without copying twice
    return [bytes(view[i : i + size]) for i in range(0, len(data), size)]


def pcm16_to_float32(pcm: bytes) -> npt.NDArray[np.float32]:
    """PCM16 samples as float32 in [-1, 1): each sample divided by 32768 (exactly)."""
    if len(pcm) & 1:
        raise LocalProtocolError(f"PCM16 data must have an even length, got {len(pcm)} bytes")
    out: npt.NDArray[np.float32] = np.frombuffer(pcm, _I16).astype(np.float32)
    out *= np.float32(1 / 32768)
    return out


def float32_to_pcm16(samples: npt.ArrayLike) -> bytes:
    """Float samples (nominally in [-1, 1)) to PCM16: times 32768, rounded, clipped.

    Rounding is half to even; values beyond full scale clip to -32768 and 32767. A
    multi-dimensional array is flattened in C order, so a ``(frames, channels)`` array
    becomes interleaved PCM. NaN is a :class:`LocalProtocolError`.
    """
    x = np.asarray(samples, dtype=np.float64).reshape(-1) * 32768.0
    if np.isnan(x).any():
        raise LocalProtocolError("float samples contain NaN; they have no PCM16 value")
    np.rint(x, out=x)
    np.clip(x, -32768, 32767, out=x)
    return x.astype(_I16).tobytes()


def check_frames(pcm16: bytes, channels: int) -> None:
    """Refuse a channel count below one, or PCM16 that is not whole interleaved frames."""
    if channels < 1:
        raise LocalProtocolError(f"channels must be >= 1, got {channels}")
    if len(pcm16) % (2 * channels):
        raise LocalProtocolError(
            f"{channels}-channel PCM16 must be whole frames of {2 * channels} bytes,"
            f" got {len(pcm16)} bytes"
        )


def to_mono(pcm16: bytes, channels: int) -> bytes:
    """Downmix interleaved PCM16 to mono: the mean of the channels, rounded half to even."""
    check_frames(pcm16, channels)
    if channels == 1:
        return bytes(pcm16)
    frames = np.frombuffer(pcm16, _I16).reshape(-1, channels)
    mean: npt.NDArray[np.float64] = frames.sum(axis=1, dtype=np.int32) / channels
    return np.rint(mean).astype(_I16).tobytes()
