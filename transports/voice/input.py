"""The pipeline's inputs: ``AudioInput`` (one turn) and ``StreamedAudioInput`` (many turns).

Both take PCM16 ``bytes`` or a numpy array (int16, or float in [-1, 1]; one dimension for
mono, ``(frames, channels)`` for interleaved channels) at any sample rate within a factor of
256 of 24 kHz (94 Hz to 6.1 MHz: 8, 11.025, 16, 22.05, 32, 44.1, 48, 96 kHz and any other),
and convert it to the pipeline's format, 24 kHz mono PCM16, with the library's own audio
functions (``to_mono``, the streaming resampler).
"""

from __future__ import annotations

import io
import os
from typing import IO

import anyio
import anyio.abc
import numpy as np
import numpy.typing as npt
from realtime_sansio.protocol import LocalProtocolError
from realtime_sansio.protocol.audio import (
    PCM16,
    StreamingResampler,
    check_rate,
    float32_to_pcm16,
    read_wav,
    resample,
    to_mono,
)

__all__ = ["DEFAULT_MAX_BUFFERED_CHUNKS", "AudioData", "AudioInput", "StreamedAudioInput"]

AudioData = bytes | bytearray | memoryview | npt.NDArray[np.int16] | npt.NDArray[np.floating]
DEFAULT_MAX_BUFFERED_CHUNKS = 64
"""Chunks a ``StreamedAudioInput`` holds before ``add_audio`` waits for the pipeline."""


def _check_format(sample_rate: int, channels: int) -> None:
    check_rate(sample_rate, "sample_rate")  # the resampler names a rate too far from 24 kHz
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
        raise LocalProtocolError(f"channels must be an int >= 1, got {channels!r}")


def _interleaved(data: AudioData, channels: int) -> bytes:
    """PCM16 bytes of ``data`` (its channels still interleaved)."""
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    if not isinstance(data, np.ndarray):
        raise LocalProtocolError(f"audio must be bytes or a numpy array, not {type(data).__name__}")
    if data.ndim == 2 and data.shape[1] != channels:
        raise LocalProtocolError(
            f"a (frames, channels) array must have {channels} columns, got shape {data.shape}"
        )
    if data.ndim not in (1, 2):
        raise LocalProtocolError(f"audio arrays are 1-D or (frames, channels), got {data.shape}")
    if data.dtype == np.int16:
        return np.ascontiguousarray(data, dtype="<i2").tobytes()
    if np.issubdtype(data.dtype, np.floating):
        return float32_to_pcm16(data)
    raise LocalProtocolError(f"audio arrays must be int16 or float, not {data.dtype}")


class AudioInput:
    """One turn of audio, given whole: ``pcm`` is it in 24 kHz mono PCM16."""

    def __init__(self, buffer: AudioData, *, sample_rate: int = PCM16.rate, channels: int = 1):
        _check_format(sample_rate, channels)
        self.pcm = resample(
            to_mono(_interleaved(buffer, channels), channels), sample_rate, PCM16.rate
        )

    def __repr__(self) -> str:
        return f"AudioInput({len(self.pcm) / PCM16.bytes_per_second:.2f} s)"

    @classmethod
    def from_wav(cls, path_or_bytes: str | os.PathLike[str] | bytes | IO[bytes]) -> AudioInput:
        """A 16-bit PCM WAV file (a path, its bytes, or an open binary file)."""
        if isinstance(path_or_bytes, bytes):
            path_or_bytes = io.BytesIO(path_or_bytes)
        pcm, rate, channels = read_wav(path_or_bytes)
        return cls(pcm, sample_rate=rate, channels=channels)


class StreamedAudioInput:
    """Audio that arrives over time (a microphone, a call): ``await add_audio(chunk)`` as it
    comes, ``close()`` at the end. At most ``max_buffered_chunks`` chunks wait for the
    pipeline; then ``add_audio`` waits (backpressure, not unbounded memory)."""

    def __init__(
        self,
        *,
        sample_rate: int = PCM16.rate,
        channels: int = 1,
        max_buffered_chunks: int = DEFAULT_MAX_BUFFERED_CHUNKS,
    ) -> None:
        _check_format(sample_rate, channels)
        self.sample_rate = sample_rate
        self.channels = channels
        self._resampler = (
            StreamingResampler(sample_rate, PCM16.rate) if sample_rate != PCM16.rate else None
        )
        self._carry = b""  # a partial frame of the interleaved input
        self._send, self._receive = anyio.create_memory_object_stream[bytes](max_buffered_chunks)
        self._used = False
        self._tail = b""  # the resampler's last output, given at close()
        self._closed = False

    async def add_audio(self, chunk: AudioData) -> None:
        data = self._carry + _interleaved(chunk, self.channels)
        frame = 2 * self.channels
        whole = len(data) - len(data) % frame
        data, self._carry = data[:whole], data[whole:]
        pcm = to_mono(data, self.channels)
        if self._resampler is not None:
            pcm = self._resampler.process(pcm)
        if not pcm:
            return
        try:
            await self._send.send(pcm)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            raise LocalProtocolError("add_audio after close(), or the pipeline has ended") from None

    def close(self) -> None:
        """No more audio: the turn in progress ends, then the pipeline does."""
        if self._resampler is not None and not self._closed:
            # The resampler holds back its filter's delay (a few ms) until the stream ends.
            self._tail = self._resampler.flush()
        self._closed = True
        self._send.close()

    def tail(self) -> bytes:
        """What ``close()`` released after the last chunk (the resampler's delay), once."""
        tail, self._tail = self._tail, b""
        return tail

    async def chunks(self) -> anyio.abc.ObjectReceiveStream[bytes]:
        """The converted chunks, for the pipeline (one pipeline per input)."""
        if self._used:
            raise LocalProtocolError("a StreamedAudioInput feeds one pipeline run only")
        self._used = True
        return self._receive
