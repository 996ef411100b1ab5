"""The polyphase resampler: length, passband fidelity, stopband, alignment, streaming."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from realtime_sansio.protocol.audio import (
    SUPPORTED_RATES,
    StreamingResampler,
    design_lowpass,
    resample,
    resampling,
)
from realtime_sansio.protocol.errors import LocalProtocolError

PAIRS = [(a, b) for a, b in itertools.permutations(SUPPORTED_RATES, 2)]
pairs = st.sampled_from(PAIRS)


def tone(freq: float, rate: int, seconds: float, amplitude: float) -> np.ndarray:
    n = np.arange(round(rate * seconds))
    return amplitude * np.sin(2 * np.pi * freq * n / rate)


def pcm(x: np.ndarray) -> bytes:
    return bytes(np.clip(np.rint(x), -32768, 32767).astype("<i2").tobytes())


def samples(data: bytes) -> np.ndarray:
    return np.frombuffer(data, "<i2").astype(np.float64)


def middle(x: np.ndarray) -> np.ndarray:
    """The steady state: a fifth cut off each end, well past the longest filter's ringing."""
    return x[len(x) // 5 : len(x) - len(x) // 5]


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x))))


def db(ratio: float) -> float:
    return 20 * math.log10(ratio) if ratio > 0 else -math.inf  # silence is infinitely down


def expected_length(n: int, from_rate: int, to_rate: int) -> int:
    return math.floor(n * to_rate / from_rate + 0.5)


@given(pairs, st.integers(0, 3000))
def test_output_length_is_input_length_times_ratio_rounded(pair: tuple[int, int], n: int) -> None:
    a, b = pair
    out = resample(bytes(2 * n), a, b)
    assert len(out) == 2 * expected_length(n, a, b)


@pytest.mark.parametrize(("from_rate", "to_rate"), PAIRS)
def test_1khz_tone_keeps_level_frequency_and_timing(from_rate: int, to_rate: int) -> None:
    amplitude = 16384.0
    out = samples(resample(pcm(tone(1000, from_rate, 0.5, amplitude)), from_rate, to_rate))
    ideal = tone(1000, to_rate, 0.5, amplitude)
    assert len(out) == len(ideal)
    level = db(rms(middle(out)) / rms(middle(ideal)))
    assert abs(level) <= 0.1
    # Same frequency and no time shift: the output is the ideal tone at the new rate, up to
    # the int16 rounding (-92 dB here) and the filter's passband ripple.
    residual = db(rms(middle(out - ideal)) / rms(middle(ideal)))
    assert residual <= -80


@pytest.mark.parametrize(
    ("from_rate", "to_rate", "freq"),
    [
        (48000, 16000, 10000),
        (24000, 8000, 6000),
        (48000, 8000, 5000),
        (48000, 24000, 15000),
        (24000, 16000, 10000),
        (16000, 8000, 5000),
    ],
)
def test_tone_above_new_nyquist_is_suppressed_by_80_db(
    from_rate: int, to_rate: int, freq: int
) -> None:
    amplitude = 0.9 * 32767
    passband = samples(resample(pcm(tone(1000, from_rate, 0.5, amplitude)), from_rate, to_rate))
    aliased = samples(resample(pcm(tone(freq, from_rate, 0.5, amplitude)), from_rate, to_rate))
    assert db(rms(middle(aliased)) / rms(middle(passband))) <= -80


@pytest.mark.parametrize(("from_rate", "to_rate"), [(a, b) for a, b in PAIRS if a < b], ids=str)
def test_upsampling_leaves_no_image_above_the_old_nyquist(from_rate: int, to_rate: int) -> None:
    # A tone at 0.75 of the old Nyquist frequency; its first image sits as far above it.
    freq = 0.375 * from_rate
    amplitude = 0.9 * 32767
    out = samples(resample(pcm(tone(freq, from_rate, 0.5, amplitude)), from_rate, to_rate))
    ideal = tone(freq, to_rate, 0.5, amplitude)
    assert db(rms(middle(out - ideal)) / rms(middle(ideal))) <= -80


@pytest.mark.parametrize(("from_rate", "to_rate"), PAIRS)
def test_designed_filter_has_80_db_stopband_and_flat_passband(from_rate: int, to_rate: int) -> None:
    up = to_rate // math.gcd(from_rate, to_rate)
    fs_up = up * from_rate
    nyquist = min(from_rate, to_rate) / 2
    h = design_lowpass(from_rate, to_rate)
    assert len(h) % 2 == 1
    # The taps actually used: quantised to 30 fractional bits.
    hq = np.rint(h * up * 2**30) / 2**30 / up
    n_fft = 1 << 18
    response = np.abs(np.fft.rfft(hq, n_fft))
    freqs = np.fft.rfftfreq(n_fft, 1 / fs_up)
    assert 20 * np.log10(response[freqs >= nyquist].max()) <= -80
    passband = 20 * np.log10(response[freqs <= 0.85 * nyquist])
    assert np.abs(passband).max() <= 0.01


def stream(data: bytes, resampler: StreamingResampler, cuts: list[int]) -> bytes:
    """Feed ``data`` in pieces cut at the given sample positions, then flush."""
    out = []
    start = 0
    for cut in [*sorted(cuts), len(data) // 2]:
        out.append(resampler.process(data[2 * start : 2 * cut]))
        start = max(start, cut)
    out.append(resampler.flush())
    return b"".join(out)


@settings(max_examples=150, deadline=None)
@given(pairs, st.data())
def test_streamed_output_is_byte_identical_to_one_shot(
    pair: tuple[int, int], data: st.DataObject
) -> None:
    a, b = pair
    n = data.draw(st.integers(0, 2500), label="n")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    loud = data.draw(st.booleans(), label="loud")
    rng = np.random.default_rng(seed)
    # Loud square-ish noise drives the filter into int16 clipping; quiet noise does not.
    x = rng.integers(-32768, 32768, n) if loud else rng.normal(0, 3000, n)
    raw = pcm(x)
    cuts = data.draw(st.lists(st.integers(0, n), max_size=12), label="cuts")
    assert stream(raw, StreamingResampler(a, b), cuts) == resample(raw, a, b)


@pytest.mark.parametrize(("from_rate", "to_rate"), [(24000, 16000), (48000, 24000), (8000, 24000)])
def test_20ms_streaming_over_several_slabs_equals_one_shot(from_rate: int, to_rate: int) -> None:
    # Longer than the one-shot path's work slab, so that slab boundaries are crossed too.
    n = 3 * resampling._SLAB + 123
    raw = pcm(np.random.default_rng(7).normal(0, 8000, n))
    step = from_rate // 50
    assert stream(raw, StreamingResampler(from_rate, to_rate), list(range(step, n, step))) == (
        resample(raw, from_rate, to_rate)
    )


@pytest.mark.parametrize(("from_rate", "to_rate"), PAIRS)
def test_streaming_holds_back_only_the_filter_lookahead(from_rate: int, to_rate: int) -> None:
    resampler = StreamingResampler(from_rate, to_rate)
    chunk = pcm(tone(440, from_rate, 0.02, 5000))
    total_in = 0
    total_out = 0
    lookahead_ms = 5  # the group delay: 4.5 ms at most (a 431-tap filter at 48 kHz)
    for _ in range(10):
        total_out += len(resampler.process(chunk)) // 2
        total_in += len(chunk) // 2
        held = expected_length(total_in, from_rate, to_rate) - total_out
        assert 0 < held <= to_rate * lookahead_ms // 1000
    total_out += len(resampler.flush()) // 2
    assert total_out == expected_length(total_in, from_rate, to_rate)


def test_flush_resets_for_a_new_stream() -> None:
    raw = pcm(tone(1000, 24000, 0.1, 10000))
    resampler = StreamingResampler(24000, 16000)
    first = resampler.process(raw) + resampler.flush()
    second = resampler.process(raw) + resampler.flush()
    assert first == second == resample(raw, 24000, 16000)
    assert resampler.flush() == b""


def test_full_scale_overshoot_clips_instead_of_wrapping() -> None:
    square = np.where(np.arange(4800) % 48 < 24, 32767.0, -32768.0)
    out = samples(resample(pcm(square), 48000, 16000))
    assert out.max() == 32767 and out.min() == -32768


@pytest.mark.parametrize("rate", SUPPORTED_RATES)
def test_equal_rates_are_the_identity(rate: int) -> None:
    raw = pcm(np.random.default_rng(rate).normal(0, 5000, 999))
    assert resample(raw, rate, rate) == raw
    resampler = StreamingResampler(rate, rate)
    assert resampler.process(raw[:100]) + resampler.process(raw[100:]) + resampler.flush() == raw


@pytest.mark.parametrize(("from_rate", "to_rate"), [(44100, 16000), (24000, 22050), (0, 8000)])
def test_unsupported_rates_are_local_protocol_errors(from_rate: int, to_rate: int) -> None:
    with pytest.raises(LocalProtocolError, match="unsupported"):
        resample(b"", from_rate, to_rate)
    with pytest.raises(ValueError):
        StreamingResampler(from_rate, to_rate)


def test_odd_length_input_is_a_local_protocol_error() -> None:
    with pytest.raises(LocalProtocolError):
        resample(b"\x00\x00\x00", 24000, 16000)
    with pytest.raises(LocalProtocolError):
        StreamingResampler(24000, 16000).process(b"\x00")
    with pytest.raises(LocalProtocolError):
        StreamingResampler(8000, 8000).process(b"\x00")


def test_rates_are_reported() -> None:
    resampler = StreamingResampler(8000, 24000)
    assert (resampler.from_rate, resampler.to_rate) == (8000, 24000)
