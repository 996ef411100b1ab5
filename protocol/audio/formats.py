"""Audio formats of the Realtime API: 24 kHz PCM16, and 8 kHz G.711 mu-law and A-law.

GA names a format by MIME-like type (``audio/pcm`` with a rate, ``audio/pcmu``, ``audio/pcma``);
the beta dialect by a flat string (``pcm16``, ``g711_ulaw``, ``g711_alaw``). Both spellings live
here, and only here.
"""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import attrs

from ..errors import LocalProtocolError, RemoteProtocolError

__all__ = ["PCM16", "PCMA", "PCMU", "AudioFormat", "AudioFormatType"]

AudioFormatType: TypeAlias = Literal["audio/pcm", "audio/pcmu", "audio/pcma"]

_RATES: dict[str, int] = {"audio/pcm": 24000, "audio/pcmu": 8000, "audio/pcma": 8000}
_BYTES_PER_SAMPLE: dict[str, int] = {"audio/pcm": 2, "audio/pcmu": 1, "audio/pcma": 1}
_BETA_NAMES: dict[str, str] = {
    "audio/pcm": "pcm16",
    "audio/pcmu": "g711_ulaw",
    "audio/pcma": "g711_alaw",
}
_FROM_BETA: dict[str, str] = {v: k for k, v in _BETA_NAMES.items()}


def _check_rate(instance: AudioFormat, attribute: attrs.Attribute[int], value: int) -> None:
    expected = _RATES[instance.type]
    if value != expected:
        raise LocalProtocolError(
            f"{instance.type} audio must be {expected} Hz, not {value} Hz"
            " (the Realtime API accepts no other rate)"
        )


def _check_type(instance: AudioFormat, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in _RATES:
        raise LocalProtocolError(
            f"unknown audio format {value!r}; expected one of {sorted(_RATES)}"
        )


@attrs.frozen(kw_only=True, slots=True)
class AudioFormat:
    """One audio format; ``PCM16``, ``PCMU`` and ``PCMA`` are the three the API knows."""

    type: AudioFormatType = attrs.field(validator=_check_type)
    rate: int = attrs.field(
        default=attrs.Factory(lambda self: _RATES.get(self.type, 0), takes_self=True),
        validator=_check_rate,
    )

    @property
    def bytes_per_sample(self) -> int:
        return _BYTES_PER_SAMPLE[self.type]

    @property
    def bytes_per_second(self) -> int:
        return self.rate * self.bytes_per_sample

    @property
    def beta_name(self) -> str:
        return _BETA_NAMES[self.type]

    def to_wire(self) -> dict[str, Any]:
        """The GA JSON object, e.g. ``{"type": "audio/pcm", "rate": 24000}``."""
        if self.type == "audio/pcm":
            return {"type": self.type, "rate": self.rate}
        return {"type": self.type}

    @classmethod
    def from_wire(cls, value: Any) -> AudioFormat:
        """Parse the GA object (or, leniently, a beta name) sent by a server."""
        if isinstance(value, str):
            return cls.from_beta_name(value)
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            raise RemoteProtocolError(f"invalid audio format {value!r}", field="format")
        if value["type"] not in _RATES:
            raise RemoteProtocolError(f"invalid audio format {value!r}", field="format")
        fmt_type = value["type"]
        rate = value.get("rate", _RATES[fmt_type])
        if rate != _RATES[fmt_type]:
            raise RemoteProtocolError(f"invalid rate {rate!r} for {fmt_type}", field="rate")
        return _BY_TYPE[fmt_type]

    @classmethod
    def from_beta_name(cls, name: str) -> AudioFormat:
        try:
            return _BY_TYPE[_FROM_BETA[name]]
        except KeyError:
            raise RemoteProtocolError(
                f"unknown beta audio format {name!r}; expected one of {sorted(_FROM_BETA)}",
                field="format",
            ) from None


PCM16 = AudioFormat(type="audio/pcm")
PCMU = AudioFormat(type="audio/pcmu")
PCMA = AudioFormat(type="audio/pcma")
_BY_TYPE: dict[str, AudioFormat] = {"audio/pcm": PCM16, "audio/pcmu": PCMU, "audio/pcma": PCMA}
