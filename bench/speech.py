"""Real speech for the VAD measurements: espeak-ng, noise, tones, and frame-level scoring.

Shared by bench/voice.py and tests/test_voice_vad.py (which puts bench/ on its path). The
speech is synthesised offline by libespeak-ng from the ``espeakng-loader`` wheel (GPL, so a
test-only dependency, called through ctypes); without it ``espeak_available()`` is False and
the callers skip, saying why.

A *scene* is utterances separated by pauses, with what was said known to the frame: a 20 ms
frame is speech when it lies within an utterance (from its first to its last audible frame,
short pauses between words included), over a background (``BACKGROUNDS``). A detector's edges
are scored against that: the share of frames it gets right, the turns it found, and the
false turns (turns over no utterance). ``background_only`` is a background with no speech, to
see whether a detector keeps a turn open in it (``turns_open``).
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = [
    "BACKGROUNDS",
    "FRAME_MS",
    "RATE",
    "Scene",
    "Score",
    "background",
    "background_only",
    "espeak",
    "espeak_available",
    "make_scene",
    "score",
    "to_pcm",
    "turns_open",
]

RATE = 24000
FRAME_MS = 20
_FRAME = RATE * FRAME_MS // 1000
Samples = npt.NDArray[np.float64]


@functools.cache
def _espeak() -> tuple[ctypes.CDLL, int] | None:
    try:
        import espeakng_loader
    except ImportError:
        return None
    lib = ctypes.CDLL(espeakng_loader.get_library_path())
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Synth.argtypes = [
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]
    synchronous = 0x02  # AUDIO_OUTPUT_SYNCHRONOUS: the samples come to the callback
    data_path = str(espeakng_loader.get_data_path()).encode()
    rate = int(lib.espeak_Initialize(synchronous, 0, data_path, 0))
    if rate <= 0:
        return None
    lib.espeak_SetVoiceByName(b"en")
    return lib, rate


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


def espeak_available() -> bool:
    return _espeak() is not None


@functools.cache
def espeak(text: str) -> Samples:
    """``text`` spoken by espeak-ng: 24 kHz float64 samples in [-1, 1]."""
    loaded = _espeak()
    if loaded is None:
        raise RuntimeError("espeak-ng is not available (pip install espeakng-loader)")
    lib, rate = loaded
    chunks: list[Samples] = []

    def collect(wav: object, count: int, _events: object) -> int:
        if wav and count > 0:
            array = np.ctypeslib.as_array(wav, shape=(count,))
            chunks.append(array.astype(np.float64))
        return 0

    callback = _CALLBACK(collect)
    lib.espeak_SetSynthCallback(callback)
    data = text.encode()
    position_character, chars_utf8 = 1, 1
    lib.espeak_Synth(data, len(data) + 1, 0, position_character, 0, chars_utf8, None, None)
    lib.espeak_Synchronize()
    samples = np.concatenate(chunks) / 32768.0
    # espeak speaks at 22050 Hz; linear interpolation to 24 kHz is plenty for a VAD.
    times = np.arange(round(len(samples) * RATE / rate)) / RATE
    result: Samples = np.interp(times, np.arange(len(samples)) / rate, samples)
    return result


def to_pcm(samples: Samples) -> bytes:
    return np.clip(np.rint(samples * 32767), -32768, 32767).astype("<i2").tobytes()


class Scene:
    """Audio (24 kHz float samples) and, per 20 ms frame, whether it is speech."""

    def __init__(self, samples: Samples, truth: npt.NDArray[np.bool_], utterances: int):
        self.samples = samples
        self.truth = truth
        self.utterances = utterances

    @property
    def pcm(self) -> bytes:
        return to_pcm(self.samples)


def _frame_rms(samples: Samples) -> Samples:
    whole = len(samples) - len(samples) % _FRAME
    frames = samples[:whole].reshape(-1, _FRAME)
    rms: Samples = np.sqrt(np.mean(frames * frames, axis=1))
    return rms


BACKGROUNDS = {
    "silence": "silence",
    "noise": "white noise",
    "tone": "440 Hz hum",
    "pink": "pink noise",
    "fan": "a fan's rumble",
    "brown": "brown noise",
    "mains": "50 Hz mains hum",
}
"""The backgrounds a scene can have, and how the bench names them."""


def _shaped(
    rng: np.random.Generator, n: int, gain: Callable[[Samples], npt.NDArray[np.floating[Any]]]
) -> Samples:
    """White noise shaped by an amplitude ``gain`` over frequency (Hz), unit RMS."""
    spectrum = np.fft.rfft(rng.normal(0.0, 1.0, n))
    spectrum *= gain(np.fft.rfftfreq(n, 1 / RATE).astype(np.float64))
    x = np.fft.irfft(spectrum, n)
    result: Samples = x / float(np.sqrt(np.mean(x * x)))
    return result


def background(kind: str, n: int, seed: int = 7) -> Samples:
    """``n`` samples of a background (``BACKGROUNDS``) at unit RMS (silence: zeros).

    Pink and brown noise are high-passed at 50 Hz, as any microphone's chain does; the fan is
    noise low-passed at 500 Hz, whose 20 ms frames fluctuate by several dB.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE
    if kind == "silence":
        return np.zeros(n)
    if kind == "noise":
        return rng.normal(0.0, 1.0, n)
    if kind in ("tone", "mains"):
        base, count = (440, 2) if kind == "tone" else (50, 7)
        hum = np.zeros(n)
        for k in range(1, count + 1):
            hum += np.sin(2 * np.pi * base * k * t) / k
        result: Samples = hum / float(np.sqrt(np.mean(hum * hum)))
        return result
    if kind == "pink":
        return _shaped(rng, n, lambda f: np.where(f >= 50, 1 / np.sqrt(np.maximum(f, 1)), 0))
    if kind == "brown":
        return _shaped(rng, n, lambda f: np.where(f >= 50, 1 / np.maximum(f, 1), 0))
    if kind == "fan":
        return _shaped(rng, n, lambda f: 1 / (1 + (f / 500) ** 2))
    raise ValueError(f"unknown background {kind!r}")


def make_scene(
    texts: Sequence[str],
    *,
    background: str = "silence",
    snr_db: float = 10.0,
    pause_s: float = 1.5,
    seed: int = 7,
) -> Scene:
    """Utterances of ``texts`` with ``pause_s`` between them, over a background (see
    ``BACKGROUNDS``) ``snr_db`` below the speech (RMS over the speech's audible samples)."""
    pause = np.zeros(round(pause_s * RATE))
    parts: list[Samples] = [pause]
    spans: list[tuple[int, int]] = []
    position = len(pause)
    for text in texts:
        speech = espeak(text)
        rms = _frame_rms(speech)
        audible = np.flatnonzero(rms > 10 ** (-45 / 20))
        if audible.size:
            spans.append(
                (position // _FRAME + int(audible[0]), position // _FRAME + int(audible[-1]) + 1)
            )
        parts += [speech, pause]
        position += len(speech) + len(pause)
    clean = np.concatenate(parts)
    voiced = clean[np.abs(clean) > 1e-4]
    speech_rms = float(np.sqrt(np.mean(voiced * voiced))) if voiced.size else 0.1
    level = speech_rms * 10 ** (-snr_db / 20)
    if background not in BACKGROUNDS:
        raise ValueError(f"unknown background {background!r}")
    noisy = clean + level * _background(background, len(clean), seed)
    truth = np.zeros(len(clean) // _FRAME, dtype=bool)
    for start, end in spans:
        truth[start:end] = True
    return Scene(np.clip(noisy, -1.0, 1.0), truth, len(spans))


_background = background  # make_scene's parameter of the same name hides the function


def background_only(
    kind: str, *, seconds: float = 10.0, onset_s: float = 1.0, dbfs: float = -30.0
) -> bytes:
    """PCM16 of silence, then from ``onset_s`` a background alone at ``dbfs`` RMS."""
    n = round(seconds * RATE)
    onset = round(onset_s * RATE)
    x = np.zeros(n)
    x[onset:] = background(kind, n - onset) * 10 ** (dbfs / 20)
    return to_pcm(x)


Edge = tuple[bool, int]


def _edges(pcm: bytes, feed: Callable[[bytes], Sequence[object]], chunk_ms: int) -> list[Edge]:
    chunk = 2 * RATE * chunk_ms // 1000
    edges: list[Edge] = []
    for start in range(0, len(pcm), chunk):
        for edge in feed(pcm[start : start + chunk]):
            edges.append((bool(edge.started), int(edge.ms)))  # type: ignore[attr-defined]
    return edges


def _turns(edges: Sequence[Edge], end_ms: int) -> list[tuple[int, int]]:
    """The turns as ``(start_ms, end_ms)``; one still open ends at ``end_ms``."""
    turns: list[tuple[int, int]] = []
    begin: int | None = None
    for started, ms in edges:
        if started:
            begin = ms
        elif begin is not None:
            turns.append((begin, ms))
            begin = None
    if begin is not None:
        turns.append((begin, end_ms))
    return turns


def turns_open(
    pcm: bytes, feed: Callable[[bytes], Sequence[object]], chunk_ms: int = 20
) -> list[tuple[int, int]]:
    """The turns a detector's ``feed`` finds in ``pcm``, as ``(start_ms, end_ms)``."""
    return _turns(_edges(pcm, feed, chunk_ms), len(pcm) * 1000 // (2 * RATE))


class Score(NamedTuple):
    """A detector's result on a scene."""

    accuracy: float
    """The share of 20 ms frames it got right."""
    turns: int
    """The turns it found."""
    false_turns: int
    """Those of them over no utterance."""


def score(scene: Scene, feed: Callable[[bytes], Sequence[object]], chunk_ms: int = 20) -> Score:
    """How a detector's ``feed`` does on the scene, fed ``chunk_ms`` at a time."""
    turns = turns_open(scene.pcm, feed, chunk_ms)
    detected = np.zeros_like(scene.truth)
    false_turns = 0
    for start, end in turns:
        detected[start // FRAME_MS : end // FRAME_MS] = True
        if not scene.truth[start // FRAME_MS : max(end // FRAME_MS, start // FRAME_MS + 1)].any():
            false_turns += 1
    return Score(float(np.mean(detected == scene.truth)), len(turns), false_turns)
