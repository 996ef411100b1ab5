"""Audio utilities: formats, durations, G.711, resampling, float conversion, WAV files.

Everything works on ``bytes`` of little-endian samples, the form the Realtime API sends and
receives (base64-decoded once at the wire codec). See ``docs/audio.md``.
"""

from __future__ import annotations

from .formats import PCM16, PCMA, PCMU, AudioFormat, AudioFormatType
from .g711 import alaw_to_pcm16, pcm16_to_alaw, pcm16_to_ulaw, ulaw_to_pcm16
from .pcm import (
    bytes_for_ms,
    duration_ms,
    float32_to_pcm16,
    pcm16_to_float32,
    split_frames,
    to_mono,
)
from .resampling import MAX_RATIO, StreamingResampler, check_rate, design_lowpass, resample
from .wav import WavWarning, read_wav, write_wav

__all__ = [
    "MAX_RATIO",
    "PCM16",
    "PCMA",
    "PCMU",
    "AudioFormat",
    "AudioFormatType",
    "StreamingResampler",
    "WavWarning",
    "alaw_to_pcm16",
    "bytes_for_ms",
    "check_rate",
    "design_lowpass",
    "duration_ms",
    "float32_to_pcm16",
    "pcm16_to_alaw",
    "pcm16_to_float32",
    "pcm16_to_ulaw",
    "read_wav",
    "resample",
    "split_frames",
    "to_mono",
    "ulaw_to_pcm16",
    "write_wav",
]
