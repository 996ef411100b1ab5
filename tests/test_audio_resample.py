"""The polyphase resampler: length, passband fidelity, stopband, alignment, streaming.

Pairs of every kind: the usual rates among themselves (8, 16, 24, 48 kHz), the rates files
come at (11.025, 22.05, 32, 44.1, 96 kHz) to and from the model's 24 kHz and Silero's 16 kHz,
and awkward ratios that need the interpolated bank (11.025k <-> 16k is 640/441; 44,101 Hz is
prime, 24000/44101 irreducible).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from realtime_sansio.protocol.audio import (
    StreamingResampler,
    design_lowpass,
    resample,
    resampling,
)
from realtime_sansio.protocol.errors import LocalProtocolError

USUAL_RATES = (8000, 16000, 24000, 48000)
FILE_RATES = (11025, 22050, 32000, 44100, 96000)
AWKWARD = [(11025, 16000), (16000, 11025), (44101, 24000), (24000, 44101), (8000, 11025)]
PAIRS = [
    *itertools.permutations(USUAL_RATES, 2),
    *[(rate, model) for rate in FILE_RATES for model in (24000, 16000)],
    *[(24000, rate) for rate in FILE_RATES],
    *AWKWARD,
]
pairs = st.sampled_from(PAIRS)


def bank_kind(from_rate: int, to_rate: int) -> str:
    bank = resampling._bank(from_rate, to_rate)
    if isinstance(bank, resampling._BandedBank):
        return "banded"
    return "exact table" if bank.exact else "interpolated"


def test_the_pairs_cover_every_kind_of_bank() -> None:
    kinds = {pair: bank_kind(*pair) for pair in PAIRS}
    assert kinds[(44100, 24000)] == kinds[(11025, 24000)] == "banded"
    assert kinds[(8000, 11025)] == "exact table"  # 441 phases, each tabulated
    assert kinds[(44101, 24000)] == kinds[(11025, 16000)] == "interpolated"


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
    out = samples(resample(pcm(tone(1000, from_rate, 1.0, amplitude)), from_rate, to_rate))
    ideal = tone(1000, to_rate, 1.0, amplitude)
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
        (44100, 24000, 15000),
        (22050, 16000, 9000),
        (96000, 24000, 30000),
        (32000, 24000, 13000),
        (44101, 24000, 14000),
        (16000, 11025, 6500),
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
    out = samples(resample(pcm(tone(freq, from_rate, 1.0, amplitude)), from_rate, to_rate))
    ideal = tone(freq, to_rate, 1.0, amplitude)
    assert db(rms(middle(out - ideal)) / rms(middle(ideal))) <= -80


@pytest.mark.parametrize(("from_rate", "to_rate"), [(a, b) for a, b in PAIRS if a > b], ids=str)
def test_downsampling_keeps_a_tone_near_the_new_nyquist(from_rate: int, to_rate: int) -> None:
    # 0.75 of the new Nyquist frequency, inside the flat passband: where an interpolated
    # bank's taps are least exact.
    freq = 0.375 * to_rate
    amplitude = 0.9 * 32767
    out = samples(resample(pcm(tone(freq, from_rate, 1.0, amplitude)), from_rate, to_rate))
    ideal = tone(freq, to_rate, 1.0, amplitude)
    assert db(rms(middle(out - ideal)) / rms(middle(ideal))) <= -80


@pytest.mark.parametrize(("from_rate", "to_rate"), PAIRS)
def test_designed_filter_has_80_db_stopband_and_flat_passband(from_rate: int, to_rate: int) -> None:
    h, fs_up = design_lowpass(from_rate, to_rate)
    up = fs_up // from_rate
    nyquist = min(from_rate, to_rate) / 2
    assert len(h) % 2 == 1
    # The taps actually used: quantised to 30 fractional bits.
    hq = np.rint(h * up * 2**30) / 2**30 / up
    n_fft = 1 << max(18, (4 * len(h)).bit_length())
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


@pytest.mark.parametrize(
    ("from_rate", "to_rate"),
    [(24000, 16000), (48000, 24000), (8000, 24000), (44100, 24000), (8000, 11025), (44101, 24000)],
)
def test_20ms_streaming_over_several_slabs_equals_one_shot(from_rate: int, to_rate: int) -> None:
    # Longer than the one-shot path's work slab, so that slab boundaries are crossed too.
    slab_in = resampling._bank(from_rate, to_rate).slab() * from_rate // to_rate
    n = 3 * slab_in + 123
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
    lookahead_ms = 5  # half the filter: 4.5 ms at most (a 431-tap filter at 48 kHz)
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


@pytest.mark.parametrize("rate", [*USUAL_RATES, *FILE_RATES, 44101])
def test_equal_rates_are_the_identity(rate: int) -> None:
    raw = pcm(np.random.default_rng(rate).normal(0, 5000, 999))
    assert resample(raw, rate, rate) == raw
    resampler = StreamingResampler(rate, rate)
    assert resampler.process(raw[:100]) + resampler.process(raw[100:]) + resampler.flush() == raw


@pytest.mark.parametrize(
    ("from_rate", "to_rate", "message"),
    [
        (0, 8000, "from_rate must be a whole number of Hz from 1 to 2147483647, got 0"),
        (24000, -16000, "to_rate must be a whole number of Hz from 1 to 2147483647, got -16000"),
        (44100.0, 24000, "from_rate must be a whole number of Hz .* got 44100.0"),
        (True, 24000, "from_rate must be a whole number of Hz .* got True"),
        (24000, 2**31, "to_rate must be a whole number of Hz .* got 2147483648"),
        (48000, 100, "cannot resample 48000 Hz to 100 Hz: the rates may differ by a factor of 256"),
        (8000, 8000 * 256 + 1, "the rates may differ by a factor of 256 at most"),
    ],
)
def test_bad_rates_are_local_protocol_errors(from_rate: int, to_rate: int, message: str) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        resample(b"", from_rate, to_rate)
    with pytest.raises(LocalProtocolError, match=message):
        StreamingResampler(from_rate, to_rate)


@pytest.mark.parametrize(
    ("from_rate", "to_rate"),
    [
        *AWKWARD,
        (22050, 32000),
        (11025, 192000),
        (48000, 47999),
        (47999, 48000),
        (192000, 750),  # down by the largest factor: the longest filter
        (750, 192000),
        (1, 256),
    ],
)
def test_every_filter_bank_is_bounded(from_rate: int, to_rate: int) -> None:
    bank = resampling._bank(from_rate, to_rate)
    if isinstance(bank, resampling._BandedBank):
        floats = sum(m.size for m in bank.mats)
    else:
        floats = bank.table.size + bank.steps.size
    assert floats <= resampling._BANDED_LIMIT  # 2 MiB
    # The resampler works there too: the right length, and a constant stays that constant
    # (400 outputs at least, several filter lengths).
    dc = pcm(np.full(400 * max(1, from_rate // to_rate) + 400, 1000.0))
    out = samples(resample(dc, from_rate, to_rate))
    assert len(out) == expected_length(len(dc) // 2, from_rate, to_rate)
    assert np.all(np.abs(middle(out) - 1000) <= 1)


def test_filter_banks_of_only_the_last_few_rate_pairs_are_kept() -> None:
    for rate in range(16001, 16041):
        StreamingResampler(rate, 24000)
    assert resampling._bank.cache_info().currsize <= resampling._CACHED_BANKS


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
