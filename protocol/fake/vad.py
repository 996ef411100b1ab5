"""Server VAD for the fake server, from the energy of the appended audio.

The real server's VAD is a model; the fake one is the classic detector, which is enough for
tests and the demo to behave like a conversation: audio is cut into 20 ms frames, a frame is
*loud* when its RMS level is above a threshold, speech starts at the first loud frame (reported
``prefix_padding_ms`` earlier, as the server does) and stops after ``silence_duration_ms`` of
quiet frames (reported where they began). ``threshold`` (0-1, the API's parameter) maps to a
level in dBFS: 0.5, the default, is -45 dBFS; 0 hears everything above -75 dBFS, 1 only
-15 dBFS and up.

The threshold follows the room: a frame must also be ``FLOOR_MARGIN_DB`` above the noise
floor (the voice VAD's ``NoiseFloor``: the quietest 200 ms of the last 2 s). Steady noise above
the threshold (a fan at -40 dBFS) starts a turn, but once the floor has risen to it, about two
seconds on, the noise no longer counts and the turn ends; speech dips between syllables and
keeps the floor down.

Positions are in milliseconds of audio appended since the buffer started, the unit of the
API's ``audio_start_ms`` / ``audio_end_ms``. PCM16 (24 kHz) and G.711 (8 kHz) both work.
The frame powers and the start/stop bookkeeping are the voice pipeline's (``voice.vad``):
this detector is its ``SpeechGate`` with one fixed level instead of an adaptive floor.
"""

from __future__ import annotations

from ..audio.formats import AudioFormat
from ..audio.g711 import alaw_to_pcm16, ulaw_to_pcm16
from ..voice.vad import NoiseFloor, SpeechEdge, SpeechGate, dbfs_to_power, frame_powers

__all__ = ["FLOOR_MARGIN_DB", "FLOOR_WINDOW_MS", "EnergyVad", "SpeechEdge", "threshold_dbfs"]

_FRAME_MS = 20
_FLOOR_BLOCK_MS = 200  # the floor keeps the quietest frame of each such block
FLOOR_MARGIN_DB = 9.0
"""How far above the noise floor a frame must be to be loud (the voice VAD's start margin)."""
FLOOR_WINDOW_MS = 2000
"""The noise floor's window: steady noise stops counting as speech this long after it began."""


def threshold_dbfs(threshold: float) -> float:
    """The level (dBFS) a frame must exceed to count as speech, for the API's 0-1 threshold."""
    return -75.0 + 60.0 * min(max(threshold, 0.0), 1.0)


class EnergyVad:
    """A streaming detector: ``feed(audio)`` returns the speech edges the audio completes."""

    def __init__(
        self,
        fmt: AudioFormat,
        *,
        threshold: float = 0.5,
        prefix_padding_ms: int = 300,
        silence_duration_ms: int = 500,
    ) -> None:
        self.fmt = fmt
        self.level = threshold_dbfs(threshold)
        self.prefix_padding_ms = prefix_padding_ms
        self.silence_duration_ms = silence_duration_ms
        self._frame_bytes = fmt.bytes_per_second * _FRAME_MS // 1000
        self._margin = 10.0 ** (FLOOR_MARGIN_DB / 10.0)
        # In a quiet room the floor is the margin below the threshold: the threshold decides.
        self._floor = NoiseFloor(
            frames_per_block=_FLOOR_BLOCK_MS // _FRAME_MS,
            blocks=FLOOR_WINDOW_MS // _FLOOR_BLOCK_MS,
            lowest=dbfs_to_power(self.level - FLOOR_MARGIN_DB),
        )
        self._pending = b""
        # One loud frame starts speech (the server reports it at once).
        self._gate = SpeechGate(
            _FRAME_MS,
            min_speech_ms=0,
            min_silence_ms=silence_duration_ms,
            prefix_padding_ms=prefix_padding_ms,
        )

    @property
    def speaking(self) -> bool:
        return self._gate.speaking

    @property
    def position_ms(self) -> int:
        """Milliseconds of audio fed so far (whole frames)."""
        return self._gate.position_ms

    def bytes_since(self, ms: int) -> int:
        """How many of the bytes fed so far come from position ``ms`` on (the part of a frame
        not heard yet included)."""
        heard = max(0, self.position_ms - ms) * (self._frame_bytes // _FRAME_MS)
        return heard + len(self._pending)

    @property
    def stop_delay_ms(self) -> int:
        """How long after speech stops the detector says so: ``silence_duration_ms`` of quiet
        (at least one frame). A stop edge at ``ms`` was decided at ``ms + stop_delay_ms``."""
        return max(self.silence_duration_ms, _FRAME_MS)

    @property
    def padding_bytes(self) -> int:
        """While no one speaks, what of the audio fed can still become part of a turn: the
        last ``prefix_padding_ms``, and the part frame not heard yet."""
        return self.bytes_since(self.position_ms - self.prefix_padding_ms)

    def feed(self, audio: bytes) -> list[SpeechEdge]:
        data = self._pending + audio
        whole = len(data) - len(data) % self._frame_bytes
        self._pending = data[whole:]
        pcm = data[:whole]
        if self.fmt.type == "audio/pcmu":
            pcm = ulaw_to_pcm16(pcm)
        elif self.fmt.type == "audio/pcma":
            pcm = alaw_to_pcm16(pcm)
        edges: list[SpeechEdge] = []
        for power in frame_powers(pcm, self.fmt.rate * _FRAME_MS // 1000).tolist():
            loud = power > self._floor.power * self._margin
            edge = self._gate.step(loud, loud)
            if edge is not None:
                edges.append(edge)
            self._floor.track(power)
        return edges

    def reset(self) -> None:
        """The buffer was committed or cleared: a new turn starts at the next audio."""
        self._pending = b""
        self._gate.reset()
