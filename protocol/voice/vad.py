"""Local voice activity detection: the ``VAD`` protocol, the speech gate, the energy VAD.

Theory of operation
-------------------
A VAD turns a stream of 24 kHz mono PCM16 into *speech edges*: "speech started at ms S",
"speech stopped at ms E", positions counted in milliseconds of audio fed since the detector
was made. Every detector here has two layers:

1. a *frame classifier*, specific to the detector, that looks at one frame of audio (20 ms
   for the energy VAD, 32 ms for Silero) and answers two questions: is this loud enough to
   *start* speech, and loud enough to *continue* speech already going on? Two thresholds, the
   second lower: that is the hysteresis which keeps a voice that fades between words from
   flickering on and off;
2. the ``SpeechGate``, shared by all of them (and by the fake server's VAD): speech starts
   once ``min_speech_ms`` of starting frames have come without a frame too quiet even to
   continue speech in between (a click or a cough is shorter), reported
   ``prefix_padding_ms`` before the first of them so that the first syllable is kept; it
   stops after ``min_silence_ms`` of frames that do not continue it, reported at the first of
   them.

The energy classifier compares a frame's mean power with a *base level*, the higher of two
estimates of the background:

- the *noise floor* (``NoiseFloor``): the minimum of the frame powers over the last
  ``floor_window_ms`` (kept as one minimum per 200 ms block, a bounded window), never below
  ``min_level_dbfs`` minus the start margin. Speech does not raise it, as it dips between
  syllables; steady noise does, after up to ``floor_window_ms``;
- the *steady noise* (``SteadyNoise``): when the mean powers of the last six 100 ms parts
  (600 ms) lie within ``steady_db`` of each other, what is playing is steady noise (a fan, a
  hum, hiss: speech's 100 ms levels vary by 7 dB and more over 600 ms), and its level is taken
  at once: the median of the six parts' loudest frames, so that a noise whose 20 ms frames
  fluctuate (a fan's rumble) does not keep rising above its own floor. It holds for
  ``floor_window_ms`` after the last steady stretch.

A frame starts speech when it is ``start_db`` above the base and above ``min_level_dbfs``,
and continues it when ``stop_db`` above. So steady noise and tones stop counting as speech
within 600 ms of their start, and no steady noise can keep a turn open (the turn ends
``min_silence_ms`` later); speech over the noise counts once it rises ``start_db`` above the
noise's peaks. All arithmetic is on exact integer sums of squares and fixed float constants, so
the same audio gives the same edges however it is cut into chunks.

Silero (``voice.silero.SileroVad``, the ``vad`` extra) is the other classifier: a neural
network's speech probability per 32 ms, which ignores steady noise and tones from the start.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Protocol, runtime_checkable

import attrs
import numpy as np
import numpy.typing as npt

from ..audio.formats import PCM16
from ..errors import LocalProtocolError

__all__ = [
    "VAD",
    "EnergyVad",
    "NoiseFloor",
    "SpeechEdge",
    "SpeechGate",
    "SteadyNoise",
    "dbfs_to_power",
    "frame_powers",
]

_FULL_SCALE_POWER = 32768.0 * 32768.0
_BLOCK_MS = 200  # the noise floor keeps one minimum per block of this length
_PART_MS = 100  # steady noise compares the mean powers of parts of this length
_STEADY_PARTS = 6  # ... over this many parts (600 ms)


@attrs.frozen(kw_only=True)
class SpeechEdge:
    """Speech ``started`` (at ``ms``, prefix padding included) or stopped (at ``ms``)."""

    started: bool
    ms: int


@runtime_checkable
class VAD(Protocol):
    """A streaming voice activity detector over 24 kHz mono PCM16."""

    @property
    def speaking(self) -> bool:
        """Whether speech is going on (started and not yet stopped)."""

    def feed(self, pcm: bytes) -> list[SpeechEdge]:
        """More audio; the speech edges it completes, in order."""

    def reset(self) -> None:
        """Forget any speech in progress (positions keep counting)."""


def _non_negative_ms(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LocalProtocolError(f"{name} must be a whole number of ms >= 0, got {value!r}")
    return value


class SpeechGate:
    """Frame decisions in, speech edges out: minimum speech and silence, prefix padding.

    ``step(starts, continues)`` takes one frame's two answers (see the module docstring);
    ``starts`` is only asked while quiet, ``continues`` only while speaking.
    """

    def __init__(
        self,
        frame_ms: int,
        *,
        min_speech_ms: int,
        min_silence_ms: int,
        prefix_padding_ms: int,
    ) -> None:
        if frame_ms <= 0:
            raise LocalProtocolError(f"frame_ms must be > 0, got {frame_ms!r}")
        self.frame_ms = frame_ms
        self.min_speech_ms = _non_negative_ms("min_speech_ms", min_speech_ms)
        self.min_silence_ms = _non_negative_ms("min_silence_ms", min_silence_ms)
        self.prefix_padding_ms = _non_negative_ms("prefix_padding_ms", prefix_padding_ms)
        self.position_ms = 0
        """Milliseconds of audio decided so far (whole frames)."""
        self.speaking = False
        self._run_ms = 0  # starting frames of the candidate start, while quiet
        self._candidate_ms = 0  # where the candidate start's first starting frame began
        self._quiet_ms = 0  # frames in a row that did not continue speech, while speaking

    def step(self, starts: bool, continues: bool) -> SpeechEdge | None:
        frame_start = self.position_ms
        self.position_ms += self.frame_ms
        if not self.speaking:
            if starts:
                if not self._run_ms:
                    self._candidate_ms = frame_start
                self._run_ms += self.frame_ms
            elif not continues:
                self._run_ms = 0  # a frame too quiet even to continue: no speech after all
            if self._run_ms and self._run_ms >= max(self.min_speech_ms, self.frame_ms):
                self.speaking, self._quiet_ms, self._run_ms = True, 0, 0
                start = max(0, self._candidate_ms - self.prefix_padding_ms)
                return SpeechEdge(started=True, ms=start)
            return None
        if continues:
            self._quiet_ms = 0
            return None
        self._quiet_ms += self.frame_ms
        if self._quiet_ms >= max(self.min_silence_ms, self.frame_ms):
            self.speaking = False
            return SpeechEdge(started=False, ms=self.position_ms - self._quiet_ms)
        return None

    @property
    def idle(self) -> bool:
        """Neither speaking nor on the way to it: no starting frame since the last quiet one."""
        return not self.speaking and not self._run_ms

    @property
    def quiet_ms(self) -> int:
        """While speaking: how long the frames have not continued speech (0 when they do)."""
        return self._quiet_ms if self.speaking else 0

    def reset(self) -> None:
        self.speaking = False
        self._run_ms = 0
        self._quiet_ms = 0


def frame_powers(pcm16: bytes, frame_samples: int) -> npt.NDArray[np.float64]:
    """The mean power (mean of squared samples) of each whole frame of mono PCM16.

    A frame's sum of squares is below 2**53, so float64 holds every partial sum exactly,
    in any order of summation: a frame's power does not depend on what audio came with it,
    which the chunking-invariance of the VADs rests on.
    """
    samples = np.frombuffer(pcm16, dtype="<i2")
    count = len(samples) // frame_samples
    frames = samples[: count * frame_samples].astype(np.float64)
    if count == 1:  # the common case of a chunk per frame: a dot product is cheapest
        return np.array([float(frames @ frames) / frame_samples])
    rows = frames.reshape(count, frame_samples)
    sums: npt.NDArray[np.float64] = np.einsum("ij,ij->i", rows, rows)
    return sums / frame_samples


def dbfs_to_power(dbfs: float) -> float:
    """The mean power of int16 samples (as ``frame_powers`` gives) at ``dbfs``."""
    return _FULL_SCALE_POWER * math.pow(10.0, dbfs / 10.0)


def power_to_dbfs(power: float) -> float:
    return 10.0 * math.log10(power / _FULL_SCALE_POWER) if power > 0 else -math.inf


class NoiseFloor:
    """The minimum frame power over a sliding window, never below ``lowest``.

    The window is ``blocks`` blocks of ``frames_per_block`` frames; one minimum per block is
    kept (bounded memory), and the floor changes only when a block completes. It starts at
    ``lowest``: a quiet room is assumed until the audio says otherwise.
    """

    def __init__(self, *, frames_per_block: int, blocks: int, lowest: float) -> None:
        self.lowest = lowest
        self.power = lowest
        """The floor now (a mean frame power)."""
        self._frames_per_block = frames_per_block
        self._blocks: deque[float] = deque([lowest], maxlen=blocks)
        self._block_min = math.inf
        self._block_frames = 0

    def track(self, power: float) -> None:
        """One more frame's power."""
        self._block_min = min(self._block_min, power)
        self._block_frames += 1
        if self._block_frames == self._frames_per_block:
            self._blocks.append(self._block_min)
            self._block_min, self._block_frames = math.inf, 0
            self.power = max(min(self._blocks), self.lowest)


class SteadyNoise:
    """The level of steady noise, learnt from ``parts`` parts of ``frames_per_part`` frames.

    When the parts' mean powers lie within ``tolerance_db`` of each other, ``level`` becomes
    the median of their loudest frames, for ``hold_frames`` frames (renewed while the noise
    stays steady); otherwise, and before any steady stretch, it is 0. See the module
    docstring for why these statistics.
    """

    def __init__(
        self, *, frames_per_part: int, parts: int, tolerance_db: float, hold_frames: int
    ) -> None:
        self.level = 0.0
        self._frames_per_part = frames_per_part
        self._tolerance = 10.0 ** (tolerance_db / 10.0)
        self._hold_frames = hold_frames
        self._means: deque[float] = deque(maxlen=parts)
        self._peaks: deque[float] = deque(maxlen=parts)
        self._sum = 0.0
        self._peak = 0.0
        self._frames = 0
        self._left = 0  # frames the level still holds for

    def track(self, power: float) -> None:
        """One more frame's power."""
        self._sum += power
        self._peak = max(self._peak, power)
        self._frames += 1
        if self._left:
            self._left -= 1
            if not self._left:
                self.level = 0.0
        if self._frames < self._frames_per_part:
            return
        self._means.append(self._sum / self._frames)
        self._peaks.append(self._peak)
        self._sum, self._peak, self._frames = 0.0, 0.0, 0
        means = self._means
        if len(means) == means.maxlen and max(means) <= min(means) * self._tolerance:
            self.level = sorted(self._peaks)[len(self._peaks) // 2]
            self._left = self._hold_frames


class EnergyVad:
    """The dependency-free default: energy with hysteresis over the noise floor and the
    level of steady noise.

    Parameters are described in the module docstring; the defaults suit a close microphone
    (speech around -20 dBFS). ``steady_db=None`` turns the steady-noise estimate off (the
    floor alone, which learns steady noise in up to ``floor_window_ms``). Memory is bounded: a
    partial frame, one power per 200 ms block of the floor window, and two per 100 ms part of
    the last 600 ms.
    """

    def __init__(
        self,
        *,
        frame_ms: int = 20,
        start_db: float = 4.0,
        stop_db: float = 2.0,
        min_level_dbfs: float = -50.0,
        floor_window_ms: int = 2000,
        steady_db: float | None = 3.0,
        min_speech_ms: int = 120,
        min_silence_ms: int = 600,
        prefix_padding_ms: int = 300,
    ) -> None:
        if not 0 <= stop_db <= start_db or not math.isfinite(start_db):
            raise LocalProtocolError(
                f"EnergyVad needs 0 <= stop_db <= start_db, got {stop_db!r} and {start_db!r}"
            )
        if not -120.0 <= min_level_dbfs <= 0.0:
            raise LocalProtocolError(f"min_level_dbfs must be -120..0, got {min_level_dbfs!r}")
        if floor_window_ms < _BLOCK_MS:
            raise LocalProtocolError(
                f"floor_window_ms must be >= {_BLOCK_MS}, got {floor_window_ms!r}"
            )
        if frame_ms <= 0 or _PART_MS % frame_ms:
            raise LocalProtocolError(f"frame_ms must divide {_PART_MS}, got {frame_ms!r}")
        if steady_db is not None and not 0.0 < steady_db <= 20.0:
            raise LocalProtocolError(f"steady_db must be 0..20 dB or None, got {steady_db!r}")
        self.gate = SpeechGate(
            frame_ms,
            min_speech_ms=min_speech_ms,
            min_silence_ms=min_silence_ms,
            prefix_padding_ms=prefix_padding_ms,
        )
        self._frame_bytes = PCM16.bytes_per_second * frame_ms // 1000
        self._start_ratio = 10.0 ** (start_db / 10.0)
        self._stop_ratio = 10.0 ** (stop_db / 10.0)
        self._min_start = dbfs_to_power(min_level_dbfs)
        self._min_continue = dbfs_to_power(min_level_dbfs - (start_db - stop_db))
        self.floor = NoiseFloor(
            frames_per_block=_BLOCK_MS // frame_ms,
            blocks=floor_window_ms // _BLOCK_MS,
            lowest=dbfs_to_power(min_level_dbfs - start_db),
        )
        self.steady = (
            None
            if steady_db is None
            else SteadyNoise(
                frames_per_part=_PART_MS // frame_ms,
                parts=_STEADY_PARTS,
                tolerance_db=steady_db,
                hold_frames=floor_window_ms // frame_ms,
            )
        )
        self._pending = b""

    @property
    def speaking(self) -> bool:
        return self.gate.speaking

    @property
    def position_ms(self) -> int:
        return self.gate.position_ms

    @property
    def noise_floor_dbfs(self) -> float:
        """The current base level: the noise floor, or steady noise's level if higher."""
        return power_to_dbfs(self._base())

    def _base(self) -> float:
        steady = self.steady.level if self.steady is not None else 0.0
        return max(self.floor.power, steady)

    def feed(self, pcm: bytes) -> list[SpeechEdge]:
        data = self._pending + pcm if self._pending else pcm
        whole = len(data) - len(data) % self._frame_bytes
        self._pending = bytes(data[whole:])
        if not whole:
            return []
        edges: list[SpeechEdge] = []
        gate, floor, steady = self.gate, self.floor, self.steady
        for power in frame_powers(data[:whole], self._frame_bytes // 2).tolist():
            base = floor.power if steady is None else max(floor.power, steady.level)
            starts = power > self._min_start and power > base * self._start_ratio
            continues = power > self._min_continue and power > base * self._stop_ratio
            edge = gate.step(starts, continues)
            if edge is not None:
                edges.append(edge)
            floor.track(power)
            if steady is not None:
                steady.track(power)
        return edges

    def reset(self) -> None:
        self.gate.reset()
