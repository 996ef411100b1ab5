"""Audio benchmarks: G.711 against audioop in the same run, and the resampler's speed.

Run ``python bench/audio.py``. Every figure is the best of several ``timeit`` repeats (the
least disturbed by the rest of the machine), and every ratio compares two figures measured
here, interleaved, never a figure remembered from elsewhere.
"""

from __future__ import annotations

import platform
import sys
import timeit
import warnings
from collections.abc import Callable
from functools import partial

import numpy as np
from realtime_sansio.protocol.audio import (
    StreamingResampler,
    alaw_to_pcm16,
    pcm16_to_alaw,
    pcm16_to_ulaw,
    resample,
    resampling,
    ulaw_to_pcm16,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

REPEATS = 15
TARGET_SECONDS = 0.005  # each repeat runs about this long, so timer resolution is irrelevant


def best_us(fn: Callable[[], object]) -> float:
    """Microseconds per call: the best of REPEATS repeats of an auto-sized loop."""
    number = max(1, int(TARGET_SECONDS / max(timeit.timeit(fn, number=3) / 3, 1e-9)))
    return min(timeit.repeat(fn, number=number, repeat=REPEATS)) / number * 1e6


def speech_like(rate: int, seconds: float, seed: int = 1) -> bytes:
    """Laplacian noise (speech's amplitude distribution) at -20 dBFS RMS, as PCM16."""
    rng = np.random.default_rng(seed)
    x = rng.laplace(0, 0.1 * 32768 / np.sqrt(2), round(rate * seconds))
    return np.clip(np.rint(x), -32768, 32767).astype("<i2").tobytes()


def bench_g711() -> None:
    print("G.711 on 8 kHz audio (Laplacian noise at -20 dBFS RMS), microseconds per call")
    print(f"{'operation':<14}{'size':>6}{'ours':>10}{'audioop':>10}{'x audioop':>11}  target")
    one_second = speech_like(8000, 1.0)
    cases: list[tuple[str, Callable[[bytes], bytes], Callable[[bytes, int], bytes], bool]] = [
        ("mu-law encode", pcm16_to_ulaw, audioop.lin2ulaw, True),
        ("A-law encode", pcm16_to_alaw, audioop.lin2alaw, True),
        ("mu-law decode", ulaw_to_pcm16, audioop.ulaw2lin, False),
        ("A-law decode", alaw_to_pcm16, audioop.alaw2lin, False),
    ]
    for name, ours, theirs, encode in cases:
        for size, n_samples in (("1 s", 8000), ("20 ms", 160)):
            pcm = one_second[: 2 * n_samples]
            data = pcm if encode else audioop.lin2ulaw(pcm, 2)
            assert ours(data) == theirs(data, 2)
            # partial(), not lambda: the cheapest call wrapper, the same for both sides.
            ours_us = best_us(partial(ours, data))
            theirs_us = best_us(partial(theirs, data, 2))
            if encode:
                target = ">= 6x" if size == "1 s" else ">= 0.9x"
            else:
                target = ">= 0.3x" if size == "1 s" else "-"
            ratio = theirs_us / ours_us
            print(f"{name:<14}{size:>6}{ours_us:>10.2f}{theirs_us:>10.2f}{ratio:>10.2f}x  {target}")


def _stream(resampler: StreamingResampler, chunks: list[bytes]) -> None:
    for chunk in chunks:
        resampler.process(chunk)


def _khz(rate: int) -> str:
    return f"{rate / 1000:g}k"


def bench_resampler() -> None:
    print()
    print("Resampler (Laplacian noise at -20 dBFS RMS), by filter bank (see docs/audio.md)")
    print(
        f"{'pair':<16}{'bank':<14}{'1 s, us':>9}{'x real time':>13}  target"
        f"{'20 ms chunk, us':>17}  target"
    )
    usual = [
        (24000, 16000),
        (48000, 24000),
        (8000, 24000),
        (24000, 8000),
        (16000, 24000),
        (24000, 48000),
        (48000, 16000),
    ]
    files = [(44100, 24000), (22050, 24000), (11025, 24000), (32000, 24000), (96000, 24000)]
    awkward = [(8000, 11025), (11025, 16000), (44101, 24000)]  # 441/320, 640/441, prime
    for from_rate, to_rate in usual + files + awkward:
        one_second = speech_like(from_rate, 1.0)
        one_shot_us = best_us(partial(resample, one_second, from_rate, to_rate))
        chunk_bytes = 2 * (from_rate // 50)
        chunks = [one_second[i : i + chunk_bytes] for i in range(0, len(one_second), chunk_bytes)]
        resampler = StreamingResampler(from_rate, to_rate)
        chunk_us = best_us(partial(_stream, resampler, chunks)) / len(chunks)
        bank = resampling._bank(from_rate, to_rate)
        if isinstance(bank, resampling._BandedBank):
            kind = "banded"
        else:
            kind = "table exact" if bank.exact else "interpolated"
        targets = ("-", "-") if (from_rate, to_rate) in awkward else (">= 2000x", "<= 40")
        print(
            f"{_khz(from_rate) + '->' + _khz(to_rate):<16}{kind:<14}{one_shot_us:>9.0f}"
            f"{1e6 / one_shot_us:>12.0f}x  {targets[0]:<8}{chunk_us:>15.1f}  {targets[1]}"
        )


def main() -> None:
    source = "audioop-lts" if sys.version_info >= (3, 13) else "stdlib audioop"
    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, {source},"
        f" {platform.machine()}; best of {REPEATS} repeats"
    )
    print()
    bench_g711()
    bench_resampler()


if __name__ == "__main__":
    main()
