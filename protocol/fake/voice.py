"""Speech-like audio for the fake server: not a voice, but not silence either.

Each word becomes a voiced burst: a fundamental between 110 and 230 Hz with its harmonics
shaped by two vowel-like formant peaks, under an attack-and-decay envelope, as long as the word
has letters (about 70 ms a letter, clamped); words are separated by short pauses and sentences
by longer ones. So a reply's audio is as long as its words, its level moves like speech,
energy-based VAD hears it as speech, and the same text always gives the same samples (the pitch
comes from a checksum of the word, not from a random generator).
"""

from __future__ import annotations

import functools
import zlib

import numpy as np
import numpy.typing as npt

from ..audio.formats import PCM16, AudioFormat
from ..audio.g711 import pcm16_to_alaw, pcm16_to_ulaw
from ..audio.resampling import resample

__all__ = ["speech_duration_ms", "synthesize_speech"]

_RATE = 24000
_MS_PER_LETTER = 70
_WORD_MS = (120, 600)
_GAP_MS = 60
_SENTENCE_GAP_MS = 220
_LEVEL = 0.25  # peak amplitude, about -15 dBFS RMS: clearly speech to a VAD, never clipping

# (first formant, second formant) of five vowels, in Hz
_VOWELS = ((730, 1090), (530, 1840), (270, 2290), (570, 840), (300, 870))


def _word_ms(word: str) -> int:
    letters = sum(ch.isalnum() for ch in word)
    return int(np.clip(letters * _MS_PER_LETTER, *_WORD_MS))


def speech_duration_ms(text: str) -> int:
    """How long ``synthesize_speech(text)`` lasts, in milliseconds."""
    words = text.split()
    total = 0
    for index, word in enumerate(words):
        total += _word_ms(word)
        if index < len(words) - 1:
            total += _SENTENCE_GAP_MS if word[-1] in ".!?" else _GAP_MS
    return total


def _burst(word: str) -> npt.NDArray[np.float64]:
    checksum = zlib.crc32(word.lower().encode("utf-8"))
    pitch = 110 + checksum % 121
    first, second = _VOWELS[(checksum >> 8) % len(_VOWELS)]
    n = _word_ms(word) * _RATE // 1000
    t = np.arange(n) / _RATE
    # Slight pitch glide, as voices do within a word.
    phase = 2 * np.pi * pitch * (t + 0.15 * t * t)
    signal = np.zeros(n)
    for harmonic in range(1, 16):
        frequency = pitch * harmonic
        if frequency > 4000:
            break
        # Harmonics near a formant are loud; far from both, quiet.
        gain = np.exp(-(((frequency - first) / 180) ** 2)) + 0.6 * np.exp(
            -(((frequency - second) / 250) ** 2)
        )
        signal += (gain + 0.02) / harmonic * np.sin(harmonic * phase)
    # A 20 ms attack, then a decay to about a fifth by the word's end (n >= 120 ms of samples).
    envelope = np.minimum(1.0, t / 0.02) * np.exp(-1.5 * t / t[-1])
    shaped: npt.NDArray[np.float64] = _LEVEL * signal * envelope / np.max(np.abs(signal))
    return shaped


@functools.lru_cache(maxsize=32)  # the same few replies, said again and again in tests
def synthesize_speech(text: str, fmt: AudioFormat = PCM16) -> bytes:
    """Speech-like audio for ``text`` in ``fmt`` (PCM16 24 kHz, or G.711 at 8 kHz)."""
    words = text.split()
    pieces: list[npt.NDArray[np.float64]] = []
    for index, word in enumerate(words):
        pieces.append(_burst(word))
        if index < len(words) - 1:
            gap = _SENTENCE_GAP_MS if word[-1] in ".!?" else _GAP_MS
            pieces.append(np.zeros(gap * _RATE // 1000))
    samples = np.concatenate(pieces) if pieces else np.zeros(0)
    pcm = np.clip(np.rint(samples * 32767), -32768, 32767).astype("<i2").tobytes()
    if fmt.type == "audio/pcm":
        return pcm
    narrow = resample(pcm, _RATE, 8000)
    return pcm16_to_ulaw(narrow) if fmt.type == "audio/pcmu" else pcm16_to_alaw(narrow)
