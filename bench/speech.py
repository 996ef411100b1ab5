"""Real speech for the VAD measurements: espeak-ng, noise, tones, and frame-level scoring.

Shared by bench/voice.py and tests/test_voice_vad.py (which puts bench/ on its path). The
speech is synthesised offline by libespeak-ng from the ``espeakng-loader`` wheel (GPL, so a
test-only dependency, called through ctypes); without it ``espeak_available()`` is False and
the callers skip, saying why.

A *scene* is utterances separated by pauses, with what was said known to the frame: a 20 ms
frame is speech when it lies within an utterance (from its first to its last audible frame,
short pauses between words included). A detector's edges are scored against that: the share
of frames it gets right, and how many turns it found.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "FRAME_MS",
    "RATE",
    "Scene",
    "espeak",
    "espeak_available",
    "make_scene",
    "score",
    "to_pcm",
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


def make_scene(
    texts: Sequence[str],
    *,
    background: str = "silence",
    snr_db: float = 10.0,
    pause_s: float = 1.5,
    seed: int = 7,
) -> Scene:
    """Utterances of ``texts`` with ``pause_s`` between them, over a background: ``silence``,
    ``noise`` (white, ``snr_db`` below the speech) or ``tone`` (a 440 Hz hum with harmonics,
    as loud as the speech minus ``snr_db``)."""
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
    rng = np.random.default_rng(seed)
    if background == "noise":
        clean = clean + rng.normal(0.0, level, len(clean))
    elif background == "tone":
        t = np.arange(len(clean)) / RATE
        hum = np.sin(2 * np.pi * 440 * t) + 0.5 * np.sin(2 * np.pi * 880 * t)
        clean = clean + level * hum / float(np.sqrt(np.mean(hum * hum)))
    elif background != "silence":
        raise ValueError(f"unknown background {background!r}")
    truth = np.zeros(len(clean) // _FRAME, dtype=bool)
    for start, end in spans:
        truth[start:end] = True
    return Scene(np.clip(clean, -1.0, 1.0), truth, len(spans))


Edge = tuple[bool, int]


def score(
    scene: Scene, feed: Callable[[bytes], Sequence[object]], chunk_ms: int = 20
) -> tuple[float, int]:
    """``(share of frames right, turns found)`` for a detector's ``feed`` on the scene."""
    pcm = scene.pcm
    chunk = 2 * RATE * chunk_ms // 1000
    edges: list[Edge] = []
    for start in range(0, len(pcm), chunk):
        for edge in feed(pcm[start : start + chunk]):
            edges.append((bool(edge.started), int(edge.ms)))  # type: ignore[attr-defined]
    detected = np.zeros_like(scene.truth)
    turns = 0
    begin: int | None = None
    for started, ms in edges:
        if started:
            begin = ms // FRAME_MS
            turns += 1
        elif begin is not None:
            detected[begin : ms // FRAME_MS] = True
            begin = None
    if begin is not None:
        detected[begin:] = True
    return float(np.mean(detected == scene.truth)), turns
