"""``FakeServerConfig``: how the fake server behaves (docs/fake-server.md, "Configuration")."""

from __future__ import annotations

import math
from typing import Any

import attrs

from .. import wire
from ..errors import LocalProtocolError
from ..testing.server import MAX_INPUT_AUDIO_MS
from ._media import Transcripts
from .latency import INSTANT, REALISTIC_LATENCY, REALISTIC_PACE, Latency

__all__ = ["FakeServerConfig"]


def _finite_non_negative(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    # Infinity passes ``>= 0``, and would put a deadline at infinity: refused here, by name.
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise LocalProtocolError(
            f"FakeServerConfig.{attribute.name} must be a finite number >= 0, not {value!r}"
        )


def _finite_positive(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise LocalProtocolError(
            f"FakeServerConfig.{attribute.name} must be a finite number > 0, not {value!r}"
        )


def _positive(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not (isinstance(value, int | float) and value > 0):
        raise LocalProtocolError(f"FakeServerConfig.{attribute.name} must be > 0, not {value!r}")


def _dialect(instance: Any, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in ("ga", "beta"):
        raise LocalProtocolError(f"FakeServerConfig.dialect is 'ga' or 'beta', not {value!r}")


@attrs.frozen(kw_only=True)
class FakeServerConfig:
    """How the fake server behaves (see docs/fake-server.md)."""

    pace: float = attrs.field(default=0.0, validator=_finite_non_negative)
    """0: the instant mode, a response streams whole the moment it starts (and ``latency`` is
    ignored). 1.0: its audio deltas go out in real time on the timer (so the user can barge in
    mid-response); 0.5 twice as fast, and so on."""
    max_session_s: float = attrs.field(default=3600.0, validator=_positive)
    """The session's maximum duration: then ``session_expired`` and close 1001."""
    brain: bool = True
    """Answer unscripted responses with the default brain; False: ``OK.`` in text."""
    dialect: wire.Dialect = attrs.field(default="ga", validator=_dialect)
    """``beta`` speaks the beta names and shapes, as ready-made ``RawFrame``s."""
    transcripts: Transcripts | None = None
    """What the user said in each committed audio turn; default a placeholder."""
    max_input_audio_s: float = attrs.field(
        default=MAX_INPUT_AUDIO_MS / 1000, validator=_finite_positive
    )
    """The most audio the input buffer holds. Past it, an append is refused
    (``input_audio_buffer_full``); with VAD on, a turn that reaches it ends there first."""
    latency: Latency = attrs.field(default=INSTANT, validator=attrs.validators.instance_of(Latency))
    """The model's timing beside audio's pace: time to the first token, tokens a second,
    transcription delays (``latency.Latency``). Ignored at ``pace=0``, the instant mode."""

    @classmethod
    def realistic(cls, **changes: Any) -> FakeServerConfig:
        """Timed like the real server (``REALISTIC_PACE``, ``REALISTIC_LATENCY``): what
        ``serve-fake`` and the pytest plugin use by default. ``changes`` override any field."""
        return cls(**{"pace": REALISTIC_PACE, "latency": REALISTIC_LATENCY, **changes})

    @property
    def instant(self) -> bool:
        """Nothing waits: every response streams whole the moment it starts."""
        return self.pace == 0
