"""G.711 against audioop (stdlib on 3.11-3.12, audioop-lts on 3.13+), over every input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from realtime_sansio.protocol.audio import (
    alaw_to_pcm16,
    pcm16_to_alaw,
    pcm16_to_ulaw,
    ulaw_to_pcm16,
)
from realtime_sansio.protocol.errors import LocalProtocolError

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

ALL_SAMPLES = np.arange(-32768, 32768, dtype=np.int32)
ALL_PCM = ALL_SAMPLES.astype("<i2").tobytes()
ALL_CODES = bytes(range(256))


def test_ulaw_encoder_matches_audioop_on_all_65536_inputs() -> None:
    assert pcm16_to_ulaw(ALL_PCM) == audioop.lin2ulaw(ALL_PCM, 2)


def test_alaw_encoder_matches_audioop_on_all_65536_inputs() -> None:
    assert pcm16_to_alaw(ALL_PCM) == audioop.lin2alaw(ALL_PCM, 2)


def test_ulaw_decoder_matches_audioop_on_all_256_codes() -> None:
    assert ulaw_to_pcm16(ALL_CODES) == audioop.ulaw2lin(ALL_CODES, 2)


def test_alaw_decoder_matches_audioop_on_all_256_codes() -> None:
    assert alaw_to_pcm16(ALL_CODES) == audioop.alaw2lin(ALL_CODES, 2)


def test_decoders_match_audioop_on_every_pair_of_codes() -> None:
    # The decoders look codes up two at a time: check all 65,536 pairs, then an odd tail.
    pairs = np.arange(65536, dtype="<u2").tobytes()
    assert ulaw_to_pcm16(pairs) == audioop.ulaw2lin(pairs, 2)
    assert alaw_to_pcm16(pairs) == audioop.alaw2lin(pairs, 2)
    odd = pairs[:-1]
    assert ulaw_to_pcm16(odd) == audioop.ulaw2lin(odd, 2)
    assert alaw_to_pcm16(odd) == audioop.alaw2lin(odd, 2)


@given(st.binary(max_size=64))
def test_random_buffers_match_audioop(data: bytes) -> None:
    assert ulaw_to_pcm16(data) == audioop.ulaw2lin(data, 2)
    assert alaw_to_pcm16(data) == audioop.alaw2lin(data, 2)
    pcm = data[: len(data) & ~1]
    assert pcm16_to_ulaw(pcm) == audioop.lin2ulaw(pcm, 2)
    assert pcm16_to_alaw(pcm) == audioop.lin2alaw(pcm, 2)


def test_empty_input_gives_empty_output() -> None:
    for codec in (pcm16_to_ulaw, pcm16_to_alaw, ulaw_to_pcm16, alaw_to_pcm16):
        assert codec(b"") == b""


def test_bytes_like_inputs_are_accepted() -> None:
    pcm = ALL_PCM[:1000]
    assert pcm16_to_ulaw(bytearray(pcm)) == pcm16_to_ulaw(pcm)  # type: ignore[arg-type]
    assert pcm16_to_alaw(memoryview(pcm)) == pcm16_to_alaw(pcm)  # type: ignore[arg-type]
    assert ulaw_to_pcm16(memoryview(pcm[:7])) == ulaw_to_pcm16(pcm[:7])  # type: ignore[arg-type]


@pytest.mark.parametrize("encode", [pcm16_to_ulaw, pcm16_to_alaw])
def test_odd_length_pcm_is_local_protocol_error(encode: object) -> None:
    assert callable(encode)
    with pytest.raises(LocalProtocolError):
        encode(b"\x00\x01\x02")
    with pytest.raises(ValueError, match="even length"):
        encode(b"\x00")


def test_round_trip_error_is_bounded_by_the_quantisation_step() -> None:
    # mu-law's largest level is 32124, so -32768 decodes 644 away; otherwise both laws stay
    # within half their coarsest step (1024) plus mu-law's bias, and are fine near zero.
    for encode, decode, worst in (
        (pcm16_to_ulaw, ulaw_to_pcm16, 32768 - 32124),
        (pcm16_to_alaw, alaw_to_pcm16, 512),
    ):
        back = np.frombuffer(decode(encode(ALL_PCM)), "<i2").astype(np.int32)
        error = np.abs(back - ALL_SAMPLES)
        assert error.max() == worst
        assert error[np.abs(ALL_SAMPLES) < 64].max() <= 8


def _itu_ulaw(x: np.ndarray) -> np.ndarray:
    """ITU-T G.191 STL ``ulaw_compress``, vectorised (input: 16-bit samples)."""
    absno = np.where(x < 0, (~x) >> 2, x >> 2) + 33
    absno = np.minimum(absno, 0x1FFF)
    segno = np.floor(np.log2(absno)).astype(np.int32) - 4  # 33..63 -> 1, 64..127 -> 2, ...
    high = 8 - segno
    low = 0xF - ((absno >> segno) & 0xF)
    out = (high << 4) | low
    result: np.ndarray = np.where(x >= 0, out | 0x80, out).astype(np.uint8)
    return result


def _itu_alaw(x: np.ndarray) -> np.ndarray:
    """ITU-T G.191 STL ``alaw_compress``, vectorised (input: 16-bit samples)."""
    ix = np.where(x < 0, (~x) >> 4, x >> 4)
    exponent = np.floor(np.log2(np.maximum(ix, 16))).astype(np.int32) - 3  # 1..7 above 15
    mantissa = (ix >> np.maximum(exponent - 1, 0)) - 16
    ix = np.where(ix > 15, mantissa + (exponent << 4), ix)
    ix = np.where(x >= 0, ix | 0x80, ix)
    return (ix ^ 0x55).astype(np.uint8)


def test_ulaw_differs_from_itu_reference_on_exactly_508_negative_inputs() -> None:
    ours = np.frombuffer(pcm16_to_ulaw(ALL_PCM), np.uint8)
    itu = _itu_ulaw(ALL_SAMPLES)
    differ = ours != itu
    assert int(differ.sum()) == 508
    inputs = ALL_SAMPLES[differ]
    assert (inputs < 0).all()
    assert inputs.min() == -31612 and inputs.max() == -1
    # One code step apart, at 127 decision thresholds, 4 inputs (one 14-bit unit) each.
    assert (np.abs(ours[differ].astype(int) - itu[differ].astype(int)) == 1).all()
    assert len(np.unique(inputs >> 2)) == 127
    # The ITU formula is a faithful transcription: it agrees everywhere else.
    assert (ours[ALL_SAMPLES >= 0] == itu[ALL_SAMPLES >= 0]).all()


def test_alaw_agrees_with_itu_reference_everywhere() -> None:
    ours = np.frombuffer(pcm16_to_alaw(ALL_PCM), np.uint8)
    assert (ours == _itu_alaw(ALL_SAMPLES)).all()
