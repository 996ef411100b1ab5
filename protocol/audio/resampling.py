"""Sample-rate conversion of 16-bit PCM between any two rates, one-shot or streamed.

Theory of operation
-------------------
A rational polyphase FIR resampler: up by ``L``, low-pass, down by ``M`` (``L/M`` is
``to_rate/from_rate`` reduced by their gcd: 24k->16k is 2/3, 44.1k->24k is 80/147). The
low-pass is a Kaiser-windowed sinc designed here with numpy alone, on a fine grid of
``phases * from_rate``: the passband ends at 0.85 of the lower Nyquist frequency, the stopband
starts *at* the lower Nyquist frequency, and the Kaiser window is sized for 85 dB of stopband
attenuation (the tests require at least 80 dB). Nothing above the new Nyquist frequency
aliases when going down, and no image survives when going up; the price is a 15 % transition
band below Nyquist (at 8 kHz the flat passband ends at 3.4 kHz, the top of the telephone band).

Output sample ``n`` lines up with input time ``n * from_rate / to_rate`` (the filter's group
delay is compensated). Input before the start and after the end is zero. The output has
exactly ``round(len_in * L / M)`` samples (halves round up).

Two filter banks, one per kind of ratio
---------------------------------------
*Banded* (every ratio between the usual rates, 8k to 192k in the 8k and 11.025k families,
except the few named below): the filter has ``L`` phases, one per output phase. Outputs come
in groups of ``L`` (the phase pattern repeats after ``L`` outputs, when the input has moved by
``M``). ``B`` such groups form one row of the output; the input, viewed as rows of ``R = B * M``
consecutive samples (a reshape, no copy), is multiplied by ``S`` precomputed ``R x B*L``
slices of a banded matrix and summed: ``S`` contiguous BLAS calls per slab of output, no
Python loop per sample. It is used while those matrices hold at most ``_BANDED_LIMIT``
(2**18) floats, 2 MiB.

*Table* (awkward ratios, where ``L`` and ``M`` are both large: 11.025k<->16k (640/441),
22.05k<->32k, 8k<->11.025k, or a rate such as 44,101 Hz whose ``L`` runs to tens of
thousands): the matrices would not fit, so the prototype is tabulated at ``P`` points per input
sample: every phase (``P = L``) when ``L`` is at most 512 (fewer when going down by ``M/L``,
as the filter is smoother by that much), else 512 (or fewer, likewise) with each output's taps
interpolated linearly between the two nearest tabulated phases. Linear interpolation of the
prototype is a convolution with a triangle: it lowers the images of the tabulated filter by
``sinc^2``, more than 110 dB at these resolutions, so the stopband is the prototype's. Per
output: gather ``K`` taps and ``K`` inputs and sum them (twice when interpolating); slower
than the banded products (see bench/audio.py), and bounded: the table and its steps hold
``2 * P * K`` floats, about 74,000 for any ratio.

The rates may differ by a factor of ``MAX_RATIO`` (256) at most: the filter's length in input
samples grows with the factor when going down (about ``72 * from_rate / to_rate`` taps), and
so would the memory.

Exactness, and why chunking cannot change a single byte
-------------------------------------------------------
The taps are quantised to integers over ``2**30`` (in the interpolated bank, each output's
taps after interpolation, an elementwise computation that depends on the output's index
alone) and the samples are integers, so every product and every partial sum is a multiple of
``2**-30`` below ``2**23`` in magnitude: it fits the 53-bit float64 mantissa exactly. A float64
matrix product (BLAS, in whatever order or blocking it likes, with or without FMA) therefore
gives the exact sum, and rounding that (half to even) and clipping to int16 is a function of
the input samples alone. This is what makes the streamed output byte-identical to the one-shot
output for any chunking, not merely close to it; the one-shot :func:`resample` is literally
the streaming code fed all at once.
"""

from __future__ import annotations

import functools
import math
from typing import Final

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import LocalProtocolError

__all__ = ["MAX_RATIO", "StreamingResampler", "check_rate", "design_lowpass", "resample"]

MAX_RATIO: Final = 256
"""The most two rates may differ by, either way (the filter grows with the ratio)."""
MAX_RATE: Final = 2**31 - 1  # a WAV header's rate field; keeps n * M within int64

_STOPBAND_DB: Final = 85.0  # Kaiser design target; the guarantee (tested) is >= 80 dB
_PASSBAND_EDGE: Final = 0.85  # fraction of the lower Nyquist frequency kept flat
_COEF_BITS: Final = 30  # taps are integers / 2**30 (see "Exactness" above)
_SCALE: Final = float(1 << _COEF_BITS)
# Multiply-adds per matrix product: OpenBLAS's threshold for going multi-threaded (65536 * 4).
# Below it a product runs on the calling thread, so a busy machine's other cores (threads
# spinning for a share of a tiny product) cannot stall the caller; it also bounds the scratch.
_GEMM_LIMIT: Final = 1 << 18
_BANDED_LIMIT: Final = 1 << 18  # floats in a banded bank's matrices (2 MiB)
_TABLE_PHASES: Final = 512  # points per input sample of the interpolated bank's table
_CACHED_BANKS: Final = 8  # rate pairs whose banks are kept for the next resampler

_I16: Final = np.dtype("<i2")
Floats = npt.NDArray[np.float64]
Samples = npt.NDArray[np.int16]


def check_rate(rate: object, name: str = "sample rate") -> int:
    """``rate`` if it is a whole number of Hz the resampler takes, else a clear error."""
    if isinstance(rate, bool) or not isinstance(rate, int) or not 1 <= rate <= MAX_RATE:
        raise LocalProtocolError(
            f"{name} must be a whole number of Hz from 1 to {MAX_RATE}, got {rate!r}"
        )
    return rate


def _check_pair(from_rate: int, to_rate: int) -> tuple[int, int]:
    """``(L, M)``: the pair's ratio reduced by the gcd, after checking both rates."""
    check_rate(from_rate, "from_rate")
    check_rate(to_rate, "to_rate")
    if max(from_rate, to_rate) > MAX_RATIO * min(from_rate, to_rate):
        raise LocalProtocolError(
            f"cannot resample {from_rate} Hz to {to_rate} Hz: the rates may differ by a factor"
            f" of {MAX_RATIO} at most"
        )
    g = math.gcd(from_rate, to_rate)
    return to_rate // g, from_rate // g


def _kaiser_taps(from_rate: int, to_rate: int, phases: int) -> tuple[int, float, float]:
    """Kaiser's odd tap count on the grid ``phases * from_rate``, with the cutoff (in cycles
    per grid sample) and the window's beta."""
    fs_up = phases * from_rate
    nyquist = min(from_rate, to_rate) / 2
    f_pass = _PASSBAND_EDGE * nyquist
    width = 2 * math.pi * (nyquist - f_pass) / fs_up
    taps = math.ceil((_STOPBAND_DB - 7.95) / (2.285 * width)) + 1
    taps += 1 - taps % 2  # odd, so that the group delay is a whole number of samples
    return taps, (f_pass + nyquist) / 2 / fs_up, 0.1102 * (_STOPBAND_DB - 8.7)


def _sinc_kaiser(taps: int, cutoff: float, beta: float) -> Floats:
    n = np.arange(taps) - (taps - 1) / 2
    h = np.sinc(2 * cutoff * n) * np.kaiser(taps, beta)
    result: Floats = h / h.sum()
    return result


def _table_phases(up: int, down: int) -> int:
    # Going down by M/L the prototype is that much smoother, so fewer points do as well; and
    # where L points are no more than that, the table holds every phase exactly.
    wanted = min(_TABLE_PHASES, -(-_TABLE_PHASES * up // down))
    return up if up <= wanted else wanted


def _table_taps(from_rate: int, to_rate: int, phases: int) -> int:
    """Taps per output of the interpolated bank: even, so that the centre falls on an input."""
    taps, _, _ = _kaiser_taps(from_rate, to_rate, phases)
    per_output = -(-(taps - 1) // phases)
    return per_output + per_output % 2


def design_lowpass(from_rate: int, to_rate: int) -> tuple[Floats, int]:
    """The prototype low-pass (float, DC gain 1) and the rate of the grid it is sampled on.

    The grid is ``L * from_rate`` for a banded bank, ``P * from_rate`` for an interpolated one
    (see the module docstring). Public so that tests and documentation can inspect the
    filter's frequency response.
    """
    up, down = _check_pair(from_rate, to_rate)
    if _banded_fits(from_rate, to_rate, up, down):
        taps, cutoff, beta = _kaiser_taps(from_rate, to_rate, up)
        return _sinc_kaiser(taps, cutoff, beta), up * from_rate
    phases = _table_phases(up, down)
    _, cutoff, beta = _kaiser_taps(from_rate, to_rate, phases)
    # Stretched to a whole, even number of input samples: the table's rows line up with them.
    taps = _table_taps(from_rate, to_rate, phases) * phases + 1
    return _sinc_kaiser(taps, cutoff, beta), phases * from_rate


def _banded_shape(up: int, down: int, taps: int) -> tuple[int, int, int]:
    """``(k, b, s)``: taps per phase, groups per row, matrices; see ``_BandedBank``."""
    delay = (taps - 1) // 2
    k = -(-taps // up)
    b = max(1, round(k / (2 * down)))
    c_first = delay // up
    c_last = ((up - 1) * down + delay) // up
    span = (b - 1) * down + c_last - c_first + k  # inputs one row of outputs reads
    return k, b, -(-span // (b * down))


def _banded_fits(from_rate: int, to_rate: int, up: int, down: int) -> bool:
    taps, _, _ = _kaiser_taps(from_rate, to_rate, up)
    _, b, s = _banded_shape(up, down, taps)
    return s * b * down * b * up <= _BANDED_LIMIT


class _BandedBank:
    """``L`` phases as ``S`` slices of a banded matrix; immutable once built."""

    __slots__ = ("base0", "delay", "down", "group", "mats", "row_in", "up")

    def __init__(self, from_rate: int, to_rate: int, up: int, down: int) -> None:
        self.up, self.down = up, down
        h, _ = design_lowpass(from_rate, to_rate)
        n_taps = len(h)
        self.delay = delay = (n_taps - 1) // 2
        k, b, s = _banded_shape(up, down, n_taps)
        # Phase p holds taps p, p + L, p + 2L, ... scaled by L (upsampling's zeros lose
        # energy) and quantised to integers: poly[p, i] multiplies x[j0 - i].
        padded = np.zeros(k * up)
        padded[:n_taps] = np.rint(h * up * _SCALE)
        poly = padded.reshape(k, up).T
        # Output n = q*L + r reads input j0 = q*M + c_r, through phase p_r.
        r = np.arange(up)
        c = (r * down + delay) // up
        p = (r * down + delay) % up
        c0 = int(c[0])
        self.base0 = c0 - k + 1  # first input (absolute index) that output group 0 reads
        # B groups of L outputs per row; R = B*M inputs per row; about K/2 inputs per row
        # balances the wasted zeros of the banded matrix against the number of BLAS calls.
        self.group = b * up
        self.row_in = row_in = b * down
        big = np.zeros((s * row_in, b * up))
        bb, rr, ii = np.meshgrid(np.arange(b), r, np.arange(k), indexing="ij")
        rel = bb * down + c[rr] - c0 + k - 1 - ii
        big[rel, bb * up + rr] = poly[p[rr], ii]
        big /= _SCALE  # exact: a power-of-two scaling of integers
        mats: list[Floats] = []
        for i in range(s):
            m = np.ascontiguousarray(big[i * row_in : (i + 1) * row_in])
            m.flags.writeable = False
            mats.append(m)
        self.mats: tuple[Floats, ...] = tuple(mats)

    def first_input(self, n: int) -> int:
        """The first input (absolute index) that outputs ``n`` and later read."""
        return (n // self.up) * self.down + self.base0

    def ready(self, n_in: int) -> int:
        """How many outputs have all their inputs among the first ``n_in``."""
        # The last output whose newest input, j0 = (n*M + D) // L, has arrived.
        return (n_in * self.up - 1 - self.delay) // self.down + 1

    def slab(self) -> int:
        """Outputs per block of work: as many rows as keep a product under ``_GEMM_LIMIT``."""
        return max(1, _GEMM_LIMIT // (self.row_in * self.group)) * self.group

    def compute(self, sig: Samples, base: int, start: int, stop: int) -> Floats:
        """Outputs ``start..stop-1`` (unrounded); ``sig[0]`` is the input at index ``base``."""
        up, row_in, mats = self.up, self.row_in, self.mats
        first_group = start // up
        offset = self.first_input(start) - base  # where in sig this slab reads
        rows = -(-(-(-stop // up) - first_group) // (self.group // up))
        need = (rows + len(mats) - 1) * row_in
        work = np.zeros(need)
        avail = min(need, len(sig) - offset)
        if avail > 0:
            work[:avail] = sig[offset : offset + avail]
        x = work.reshape(-1, row_in)
        acc = x[:rows] @ mats[0]
        for i in range(1, len(mats)):
            acc += x[i : i + rows] @ mats[i]
        first = start - first_group * up
        result: Floats = acc.reshape(-1)[first : first + stop - start]
        return result


class _TableBank:
    """The prototype tabulated at ``P`` points per input sample (interpolated if ``P < L``)."""

    __slots__ = ("down", "exact", "half", "phases", "steps", "table", "taps", "up")

    def __init__(self, from_rate: int, to_rate: int, up: int, down: int) -> None:
        self.up, self.down = up, down
        h, grid = design_lowpass(from_rate, to_rate)
        self.phases = phases = grid // from_rate
        self.exact = phases == up  # every output lies on a tabulated phase: no interpolation
        self.taps = k = (len(h) - 1) // phases
        self.half = k // 2
        # table[q, m] multiplies x[j0 - K/2 + 1 + m] when the output lies q/P of an input
        # after x[j0], scaled by P and quantised to integers over 2**30; row P closes the last
        # interval. steps[q] = table[q + 1] - table[q], integers too.
        idx = np.arange(phases + 1)[:, None] + phases * np.arange(k - 1, -1, -1)[None, :]
        table = np.rint(h[idx] * (phases * _SCALE))
        self.steps = table[1:] - table[:-1]
        self.table = table[:-1]
        self.table.flags.writeable = False
        self.steps.flags.writeable = False

    def first_input(self, n: int) -> int:
        return n * self.down // self.up - self.half + 1

    def ready(self, n_in: int) -> int:
        # Output n reads up to x[n*M // L + K/2]: it is ready once that index is < n_in.
        return -(-(n_in - self.half) * self.up // self.down)

    def slab(self) -> int:
        return max(1, _GEMM_LIMIT // self.taps)

    def compute(self, sig: Samples, base: int, start: int, stop: int) -> Floats:
        up, down, phases, k = self.up, self.down, self.phases, self.taps
        q, r = np.divmod(np.arange(start, stop, dtype=np.int64), up)
        rm = r * down
        first = q * down + rm // up - self.half + 1 - base  # each output's first input in sig
        fine = (rm % up) * phases
        row = fine // up
        lo = int(first[0])
        work = np.zeros(int(first[-1]) + k - lo)  # zeros after the last input, at the end
        avail = sig[lo : lo + len(work)]
        work[: len(avail)] = avail
        windows = sliding_window_view(work, k)[first - lo]
        # Both sums are exact (integers times integers); the interpolation between them is
        # one multiply and one add per output, a function of the output's index alone.
        acc: Floats = np.einsum("ij,ij->i", windows, self.table.take(row, axis=0))
        if not self.exact:
            weight = (fine % up) / up
            acc += weight * np.einsum("ij,ij->i", windows, self.steps.take(row, axis=0))
        acc /= _SCALE
        return acc


_Bank = _BandedBank | _TableBank


@functools.lru_cache(maxsize=_CACHED_BANKS)
def _bank(from_rate: int, to_rate: int) -> _Bank:
    up, down = _check_pair(from_rate, to_rate)
    if _banded_fits(from_rate, to_rate, up, down):
        return _BandedBank(from_rate, to_rate, up, down)
    return _TableBank(from_rate, to_rate, up, down)


class StreamingResampler:
    """Resample a stream of PCM16 chunks with the filter state carried across chunks.

    ``process`` returns every output sample whose inputs have all arrived (the filter looks
    ahead by half its length: 1.5 to 4.5 ms between the usual rates); ``flush`` ends the
    stream, returns the tail computed with zeros after the last input, and resets the
    resampler for a new stream. The concatenated outputs are byte-identical to ``resample`` of
    the concatenated inputs, whatever the chunk sizes. The state is bounded: about one filter
    length of input history. The filter banks of the last 8 rate pairs used are kept for the
    next resampler (at most 2 MiB each).
    """

    __slots__ = ("_bank", "_from_rate", "_hist", "_n_in", "_n_out", "_to_rate")

    def __init__(self, from_rate: int, to_rate: int) -> None:
        _check_pair(from_rate, to_rate)
        self._from_rate = from_rate
        self._to_rate = to_rate
        self._bank = None if from_rate == to_rate else _bank(from_rate, to_rate)
        self._reset()

    @property
    def from_rate(self) -> int:
        return self._from_rate

    @property
    def to_rate(self) -> int:
        return self._to_rate

    def _reset(self) -> None:
        self._n_in = 0
        self._n_out = 0
        # Input history from the first input the next output reads; inputs before 0 are zeros.
        first = self._bank.first_input(0) if self._bank is not None else 0
        self._hist: Samples = np.zeros(max(0, -first), dtype=_I16)

    def process(self, chunk: bytes) -> bytes:
        """Feed a chunk of PCM16; return the output samples that are complete so far."""
        if len(chunk) & 1:
            raise LocalProtocolError(f"PCM16 chunks must have an even length, got {len(chunk)}")
        if self._bank is None:
            return bytes(chunk)
        return self._run(np.frombuffer(chunk, _I16), final=False)

    def flush(self) -> bytes:
        """End the stream: return the remaining output and reset for a new stream."""
        if self._bank is None:
            return b""
        out = self._run(np.zeros(0, dtype=_I16), final=True)
        self._reset()
        return out

    def _run(self, new: Samples, *, final: bool) -> bytes:
        bank = self._bank
        assert bank is not None  # the identity case never gets here
        up, down = bank.up, bank.down
        n_in = self._n_in + len(new)
        n_out = self._n_out
        # At the end round(n_in * L / M) outputs (halves up); before, those whose inputs are in.
        n_end = (2 * n_in * up + down) // (2 * down) if final else max(n_out, bank.ready(n_in))
        base = bank.first_input(n_out)  # the absolute index of the history's first input
        sig = np.concatenate((self._hist, new)) if len(self._hist) else new
        pieces: list[bytes] = []
        start = n_out
        slab = bank.slab()
        while start < n_end:
            stop = min(n_end, start + slab)
            y = bank.compute(sig, base, start, stop)
            np.rint(y, out=y)
            np.clip(y, -32768, 32767, out=y)
            pieces.append(y.astype(_I16).tobytes())
            start = stop
        self._n_in = n_in
        self._n_out = n_end
        # Keep the inputs from where the next call's first output starts reading: a copy, so
        # that neither a large input nor the caller's (mutable) buffer is retained.
        self._hist = sig[bank.first_input(n_end) - base :].copy()
        return b"".join(pieces)


def resample(pcm16: bytes, from_rate: int, to_rate: int) -> bytes:
    """Resample mono PCM16 (little-endian) from one rate to another.

    The output has ``round(len_in * to_rate / from_rate)`` samples, aligned in time with the
    input; equal rates return the input unchanged. A rate that is not a whole number of Hz
    from 1 up, rates more than ``MAX_RATIO`` apart, and odd-length data are a
    :class:`LocalProtocolError`.
    """
    resampler = StreamingResampler(from_rate, to_rate)
    if len(pcm16) & 1:
        raise LocalProtocolError(f"PCM16 data must have an even length, got {len(pcm16)}")
    if from_rate == to_rate:
        return bytes(pcm16)
    return resampler._run(np.frombuffer(pcm16, _I16), final=True)
