"""G.711 mu-law and A-law codecs for 16-bit little-endian PCM, on numpy lookup tables.

The results are bit-exact with the stdlib ``audioop`` module (``lin2ulaw``, ``ulaw2lin``,
``lin2alaw``, ``alaw2lin`` with width 2; ``audioop-lts`` on Python 3.13+), which is what
telephony bridges built on Python have interoperated with for decades. Every table below is
computed once at import by a vectorised transcription of audioop's C code, and the tests
compare all 65,536 inputs and all 256 codes with audioop itself.

mu-law differs from the ITU-T G.711 reference code (G.191 STL ``ulaw_compress``) on exactly
508 inputs, all negative: audioop takes the magnitude of a negative sample as ``-(x >> 2)``,
that is ``ceil(|x| / 4)`` in 14-bit units, where the ITU code uses ``(~x) >> 2``, that is
``floor((|x| - 1) / 4)``. The two agree except where that one 14-bit unit crosses one of
the 127 negative decision thresholds: 4 inputs per threshold, spread over the whole negative
range (from -1 to -31,612), each one code step apart. A-law has no such difference.
Decoding agrees with both.

Speed comes from doing the least per call: encoding is one gather from a 65,536-entry
table indexed by the uint16 view of the samples; decoding gathers from a 65,536-entry table
indexed by *pairs* of codes, two samples per lookup, derived from the 256-entry table.
"""

from __future__ import annotations

from typing import Final, TypeVar

import numpy as np
import numpy.typing as npt

from ..errors import LocalProtocolError

__all__ = ["alaw_to_pcm16", "pcm16_to_alaw", "pcm16_to_ulaw", "ulaw_to_pcm16"]

# Explicit little-endian dtypes: the wire format is little-endian on every host.
_U16: Final = np.dtype("<u2")
_I16: Final = np.dtype("<i2")
_U32: Final = np.dtype("<u4")

_T = TypeVar("_T", bound=np.generic)


def _all_samples() -> npt.NDArray[np.int32]:
    """Every int16 value, in the order of its uint16 bit pattern (the encoder's index)."""
    return np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.int16).astype(np.int32)


def _build_ulaw_encoder() -> npt.NDArray[np.uint8]:
    # audioop: st_14linear2ulaw(sample >> 2), with CLIP 8159 and BIAS 0x84 >> 2.
    v = _all_samples() >> 2
    negative = v < 0
    mask = np.where(negative, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(v), 8159) + 33
    seg_end = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
    seg = np.searchsorted(seg_end, magnitude)  # first segment whose end is >= magnitude
    code = (seg << 4) | ((magnitude >> (np.minimum(seg, 7) + 1)) & 0xF)
    code = np.where(seg >= 8, 0x7F, code) ^ mask
    return _frozen(code.astype(np.uint8))


def _build_alaw_encoder() -> npt.NDArray[np.uint8]:
    # audioop: st_linear2alaw(sample >> 3); a negative value is replaced by -v - 1.
    v = _all_samples() >> 3
    negative = v < 0
    mask = np.where(negative, 0x55, 0xD5)
    magnitude = np.where(negative, -v - 1, v)
    seg_end = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])
    seg = np.searchsorted(seg_end, magnitude)  # never 8: a 13-bit magnitude is <= 0xFFF
    shift = np.maximum(seg, 1)
    code = (seg << 4) | ((magnitude >> shift) & 0xF)
    return _frozen((code ^ mask).astype(np.uint8))


def _build_ulaw_decoder() -> npt.NDArray[np.int16]:
    # audioop: st_ulaw2linear16.
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    value = np.where(u & 0x80, 0x84 - t, t - 0x84)
    return _frozen(value.astype(_I16))


def _build_alaw_decoder() -> npt.NDArray[np.int16]:
    # audioop: st_alaw2linear16.
    a = np.arange(256, dtype=np.int32) ^ 0x55
    seg = (a & 0x70) >> 4
    t = (a & 0x0F) << 4
    t = np.where(seg == 0, t + 8, (t + 0x108) << np.maximum(seg - 1, 0))
    value = np.where(a & 0x80, t, -t)
    return _frozen(value.astype(_I16))


def _pair_table(single: npt.NDArray[np.int16]) -> npt.NDArray[np.uint32]:
    """Index ``c0 | c1 << 8`` (two codes read as one little-endian uint16) -> both samples."""
    bits = single.view(np.uint16).astype(np.uint32)
    index = np.arange(65536, dtype=np.uint32)
    return _frozen((bits[index & 0xFF] | (bits[index >> 8] << 16)).astype(_U32))


def _frozen(table: npt.NDArray[_T]) -> npt.NDArray[_T]:
    table.flags.writeable = False
    return table


_ULAW_ENCODE: Final = _build_ulaw_encoder()
_ALAW_ENCODE: Final = _build_alaw_encoder()
_ULAW_DECODE: Final = _build_ulaw_decoder()
_ALAW_DECODE: Final = _build_alaw_decoder()
_ULAW_DECODE_PAIRS: Final = _pair_table(_ULAW_DECODE)
_ALAW_DECODE_PAIRS: Final = _pair_table(_ALAW_DECODE)
# One code's two output bytes, for the odd last code of an odd-length input.
_ULAW_DECODE_BYTES: Final = tuple(_ULAW_DECODE[i : i + 1].tobytes() for i in range(256))
_ALAW_DECODE_BYTES: Final = tuple(_ALAW_DECODE[i : i + 1].tobytes() for i in range(256))

# Bound methods looked up once: at 20 ms per call, attribute lookups are a measurable share.
_ulaw_encode_take: Final = _ULAW_ENCODE.take
_alaw_encode_take: Final = _ALAW_ENCODE.take
_ulaw_pairs_take: Final = _ULAW_DECODE_PAIRS.take
_alaw_pairs_take: Final = _ALAW_DECODE_PAIRS.take
_frombuffer: Final = np.frombuffer


def pcm16_to_ulaw(pcm: bytes) -> bytes:
    """Encode 16-bit little-endian PCM as G.711 mu-law, one byte per sample (as audioop)."""
    if len(pcm) & 1:
        raise LocalProtocolError(f"PCM16 data must have an even length, got {len(pcm)} bytes")
    return _ulaw_encode_take(_frombuffer(pcm, _U16)).tobytes()


def pcm16_to_alaw(pcm: bytes) -> bytes:
    """Encode 16-bit little-endian PCM as G.711 A-law, one byte per sample (as audioop)."""
    if len(pcm) & 1:
        raise LocalProtocolError(f"PCM16 data must have an even length, got {len(pcm)} bytes")
    return _alaw_encode_take(_frombuffer(pcm, _U16)).tobytes()


def ulaw_to_pcm16(codes: bytes) -> bytes:
    """Decode G.711 mu-law to 16-bit little-endian PCM, two bytes per code (as audioop)."""
    n = len(codes)
    if n & 1 == 0:
        return _ulaw_pairs_take(_frombuffer(codes, _U16)).tobytes()
    head = _ulaw_pairs_take(_frombuffer(codes, _U16, n >> 1)).tobytes()
    return head + _ULAW_DECODE_BYTES[codes[-1]]


def alaw_to_pcm16(codes: bytes) -> bytes:
    """Decode G.711 A-law to 16-bit little-endian PCM, two bytes per code (as audioop)."""
    n = len(codes)
    if n & 1 == 0:
        return _alaw_pairs_take(_frombuffer(codes, _U16)).tobytes()
    head = _alaw_pairs_take(_frombuffer(codes, _U16, n >> 1)).tobytes()
    return head + _ALAW_DECODE_BYTES[codes[-1]]
