"""How long the fake server takes: the latency model, and the waits it gives.

A real model takes time: ``response.created`` comes at once, the first token a few hundred
milliseconds later, text and tool arguments stream at some tokens a second, audio faster than
it plays, and the input transcription of a turn arrives on its own schedule, before or after
the response to that turn has started. ``Latency`` holds those figures; ``FakeServerConfig``
holds one beside ``pace`` (audio's speed). All of it is deterministic: the waits vary by
``jitter`` around their figure, by a factor computed from ``seed`` and the wait's number (a
hash, not a random draw), so the same calls at the same times give the same frames. See
docs/fake-server.md ("Time") for the figures of ``REALISTIC_LATENCY`` and where they come from.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs

from .. import wire
from ..errors import LocalProtocolError
from ..testing.scripts import estimate_tokens

__all__ = ["INSTANT", "REALISTIC_LATENCY", "REALISTIC_PACE", "Latency", "Waits"]

_MASK = (1 << 64) - 1
_TEXT_DELTAS = (
    wire.ResponseOutputTextDelta,
    wire.ResponseFunctionCallArgumentsDelta,
    wire.ResponseOutputAudioTranscriptDelta,
)


def _finite_non_negative(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    ):
        raise LocalProtocolError(
            f"Latency.{attribute.name} must be a finite number >= 0, not {value!r}"
        )


def _fraction(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not (isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1):
        raise LocalProtocolError(f"Latency.{attribute.name} must be >= 0 and < 1, not {value!r}")


def _whole(instance: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LocalProtocolError(f"Latency.{attribute.name} must be an int, not {value!r}")


@attrs.frozen(kw_only=True)
class Latency:
    """The model's timing, apart from audio's pace. All zero (the default): nothing waits but
    the audio."""

    first_token_ms: float = attrs.field(default=0.0, validator=_finite_non_negative)
    """From ``response.created`` to the response's first output (its item, part and first
    delta)."""
    tokens_per_s: float = attrs.field(default=0.0, validator=_finite_non_negative)
    """How fast text, tool arguments and transcript pieces without audio stream (tokens
    counted as ``testing.estimate_tokens`` counts them, four characters each); 0: at once."""
    transcription_ms: float = attrs.field(default=0.0, validator=_finite_non_negative)
    """From a commit to its input transcription's first delta."""
    transcription_tokens_per_s: float = attrs.field(default=0.0, validator=_finite_non_negative)
    """How fast the input transcription's deltas follow each other; 0: at once."""
    jitter: float = attrs.field(default=0.0, validator=_fraction)
    """Each wait is its figure times a factor between ``1 - jitter`` and ``1 + jitter``."""
    seed: int = attrs.field(default=0, validator=_whole)
    """Which factors: another seed, other (equally deterministic) waits."""

    @property
    def transcription_paced(self) -> bool:
        return self.transcription_ms > 0 or self.transcription_tokens_per_s > 0


INSTANT = Latency()
"""No waits at all (with ``pace=0``, the fake's instant mode)."""

REALISTIC_LATENCY = Latency(
    first_token_ms=350.0,
    tokens_per_s=50.0,
    transcription_ms=250.0,
    transcription_tokens_per_s=200.0,
    jitter=0.3,
)
"""The figures ``serve-fake`` and the pytest plugin use by default (docs/fake-server.md says
where each comes from)."""

REALISTIC_PACE = 0.5
"""Audio generated twice as fast as it plays, as the real server runs ahead of playback."""


class Waits:
    """The waits of one session, in the order they are asked for (the n-th wait's factor
    depends only on ``seed`` and n)."""

    def __init__(self, latency: Latency) -> None:
        self.latency = latency
        self._count = 0

    def _factor(self) -> float:
        jitter = self.latency.jitter
        if not jitter:
            return 1.0
        self._count += 1
        # splitmix64 of (seed, n): a fixed function, evenly spread over [0, 1).
        z = (self.latency.seed * 0x9E3779B97F4A7C15 + self._count * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        unit = (z ^ (z >> 31)) / 2.0**64
        return 1.0 - jitter + 2.0 * jitter * unit

    def after(
        self, events: list[wire.ServerEvent], pace: float, bytes_per_ms: Callable[[str], float]
    ) -> float:
        """Seconds the model takes to produce what a response's step carried: its audio
        times ``pace`` (a transcript rides with its audio), else its text's tokens."""
        audio_ms = 0.0
        text = ""
        for event in events:
            if isinstance(event, wire.ResponseOutputAudioDelta):
                audio_ms += len(event.delta) / bytes_per_ms(event.item_id)
            elif isinstance(event, _TEXT_DELTAS):
                text += event.delta
        return audio_ms * pace / 1000 if audio_ms else self.tokens(text)

    def first_token(self) -> float:
        """Seconds from ``response.created`` to the first output."""
        return (
            self.latency.first_token_ms / 1000 * self._factor()
            if self.latency.first_token_ms
            else 0.0
        )

    def tokens(self, text: str) -> float:
        """Seconds a piece of text takes to stream."""
        return self._per_token(text, self.latency.tokens_per_s)

    def transcription(self) -> float:
        """Seconds from a commit to the first transcription delta."""
        ms = self.latency.transcription_ms
        return ms / 1000 * self._factor() if ms else 0.0

    def transcript_piece(self, text: str) -> float:
        """Seconds one transcription delta takes."""
        return self._per_token(text, self.latency.transcription_tokens_per_s)

    def _per_token(self, text: str, rate: float) -> float:
        if not rate or not text:
            return 0.0
        return estimate_tokens(text) / rate * self._factor()
