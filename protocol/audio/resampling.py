"""Sample-rate conversion of 16-bit PCM between 8, 16, 24 and 48 kHz, one-shot or streamed.

Theory of operation
-------------------
A rational polyphase FIR resampler: up by ``L``, low-pass, down by ``M`` (``L/M`` is
``to_rate/from_rate`` reduced by their gcd). The low-pass is a Kaiser-windowed sinc designed
here with numpy alone, on the upsampled grid ``L * from_rate``: the passband ends at 0.85 of
the lower Nyquist frequency, the stopband starts *at* the lower Nyquist frequency, and the
Kaiser window is sized for 85 dB of stopband attenuation (the tests require at least 80 dB).
Nothing above the new Nyquist frequency aliases when going down, and no image survives when
going up; the price is a 15 % transition band below Nyquist (at 8 kHz the flat passband ends
at 3.4 kHz, the top of the telephone band).

The filter has odd length ``N`` and a group delay of ``D = (N - 1) / 2`` upsampled samples,
which is compensated: output sample ``n`` is the filtered upsampled signal at ``n * M + D``,
so it lines up with input time ``n * from_rate / to_rate``. Input before the start and after
the end is zero. The output has exactly ``round(len_in * L / M)`` samples (halves round up).

Exactness, and why chunking cannot change a single byte
-------------------------------------------------------
The taps are quantised to integers over ``2**30`` and the samples are integers, so every
product and every partial sum is a multiple of ``2**-30`` below ``2**23`` in magnitude: it
fits the 53-bit float64 mantissa exactly. A float64 matrix product (BLAS, in whatever order
or blocking it likes, with or without FMA) therefore gives the exact sum, and rounding that
(half to even) and clipping to int16 is a function of the input samples alone. This is what
makes the streamed output byte-identical to the one-shot output for any chunking, not merely
close to it; the one-shot :func:`resample` is literally the streaming code fed all at once.

Speed
-----
Outputs come in groups of ``L`` (the phase pattern repeats after ``L`` outputs, when the
input has moved by ``M``). ``B`` such groups form one row of the output; the input, viewed
as rows of ``R = B * M`` consecutive samples (a reshape, no copy), is multiplied by ``S``
precomputed ``R x B*L`` slices of a banded matrix and summed: ``S`` contiguous BLAS calls
per slab of output, no Python loop per sample. The matrices are built once per ``(L, M)``.
"""

from __future__ import annotations

import functools
import math
from typing import Final

import numpy as np
import numpy.typing as npt

from ..errors import LocalProtocolError

__all__ = ["SUPPORTED_RATES", "StreamingResampler", "design_lowpass", "resample"]

SUPPORTED_RATES: Final = (8000, 16000, 24000, 48000)

_STOPBAND_DB: Final = 85.0  # Kaiser design target; the guarantee (tested) is >= 80 dB
_PASSBAND_EDGE: Final = 0.85  # fraction of the lower Nyquist frequency kept flat
_COEF_BITS: Final = 30  # taps are integers / 2**30 (see "Exactness" above)
_SLAB: Final = 16384  # samples (in or out) per block of work: bounded, cache-sized scratch

_I16: Final = np.dtype("<i2")


def _check_rate(rate: int, name: str) -> None:
    if rate not in SUPPORTED_RATES:
        raise LocalProtocolError(
            f"unsupported {name} {rate!r} Hz; expected one of {list(SUPPORTED_RATES)}"
        )


def design_lowpass(from_rate: int, to_rate: int) -> npt.NDArray[np.float64]:
    """The prototype low-pass (float, DC gain 1) on the grid ``L * from_rate``.

    Public so that tests and documentation can inspect its frequency response.
    """
    _check_rate(from_rate, "from_rate")
    _check_rate(to_rate, "to_rate")
    up = to_rate // math.gcd(from_rate, to_rate)
    fs_up = up * from_rate
    nyquist = min(from_rate, to_rate) / 2
    f_pass = _PASSBAND_EDGE * nyquist
    f_stop = nyquist
    cutoff = (f_pass + f_stop) / 2
    # Kaiser's formulas for the window's beta and length at the wanted attenuation.
    beta = 0.1102 * (_STOPBAND_DB - 8.7)
    width = 2 * math.pi * (f_stop - f_pass) / fs_up
    taps = math.ceil((_STOPBAND_DB - 7.95) / (2.285 * width)) + 1
    taps += 1 - taps % 2  # odd, so that the group delay is a whole number of samples
    n = np.arange(taps) - (taps - 1) / 2
    h = np.sinc(2 * cutoff / fs_up * n) * np.kaiser(taps, beta)
    result: npt.NDArray[np.float64] = h / h.sum()
    return result


class _Bank:
    """Everything precomputed for one ``(from_rate, to_rate)`` pair; immutable once built."""

    __slots__ = ("base0", "delay", "down", "group", "mats", "row_in", "up")

    def __init__(self, from_rate: int, to_rate: int) -> None:
        g = math.gcd(from_rate, to_rate)
        self.up = up = to_rate // g
        self.down = down = from_rate // g
        h = design_lowpass(from_rate, to_rate)
        n_taps = len(h)
        self.delay = delay = (n_taps - 1) // 2
        # Phase p holds taps p, p + L, p + 2L, ... scaled by L (upsampling's zeros lose
        # energy) and quantised to integers: poly[p, i] multiplies x[j0 - i].
        k = -(-n_taps // up)
        padded = np.zeros(k * up)
        padded[:n_taps] = np.rint(h * up * (1 << _COEF_BITS))
        poly = padded.reshape(k, up).T
        # Output n = q*L + r reads input j0 = q*M + c_r, through phase p_r.
        r = np.arange(up)
        c = (r * down + delay) // up
        p = (r * down + delay) % up
        c0 = int(c[0])
        self.base0 = c0 - k + 1  # first input (absolute index) that output group 0 reads
        # B groups of L outputs per row; R = B*M inputs per row; about K/2 inputs per row
        # balances the wasted zeros of the banded matrix against the number of BLAS calls.
        b = max(1, round(k / (2 * down)))
        self.group = b * up
        self.row_in = row_in = b * down
        span = (b - 1) * down + int(c[-1]) - c0 + k  # inputs one row of outputs reads
        s = -(-span // row_in)
        big = np.zeros((s * row_in, b * up))
        bb, rr, ii = np.meshgrid(np.arange(b), r, np.arange(k), indexing="ij")
        rel = bb * down + c[rr] - c0 + k - 1 - ii
        big[rel, bb * up + rr] = poly[p[rr], ii]
        big /= 1 << _COEF_BITS  # exact: a power-of-two scaling of integers
        mats: list[npt.NDArray[np.float64]] = []
        for i in range(s):
            m = np.ascontiguousarray(big[i * row_in : (i + 1) * row_in])
            m.flags.writeable = False
            mats.append(m)
        self.mats: tuple[npt.NDArray[np.float64], ...] = tuple(mats)


@functools.cache
def _bank(from_rate: int, to_rate: int) -> _Bank:
    return _Bank(from_rate, to_rate)


class StreamingResampler:
    """Resample a stream of PCM16 chunks with the filter state carried across chunks.

    ``process`` returns every output sample whose inputs have all arrived (the filter looks
    ahead by its group delay: 1.5 to 4.5 ms by rate pair); ``flush`` ends the stream, returns the
    tail computed with zeros after the last input, and resets the resampler for a new
    stream. The concatenated outputs are byte-identical to ``resample`` of the concatenated
    inputs, whatever the chunk sizes. The state is bounded: about one filter length of
    input history.
    """

    __slots__ = ("_bank", "_from_rate", "_hist", "_n_in", "_n_out", "_to_rate")

    def __init__(self, from_rate: int, to_rate: int) -> None:
        _check_rate(from_rate, "from_rate")
        _check_rate(to_rate, "to_rate")
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
        bank = self._bank
        self._n_in = 0
        self._n_out = 0
        # Input history from absolute index base0 on; the inputs before 0 are zeros.
        self._hist: npt.NDArray[np.int16] = np.zeros(
            -bank.base0 if bank is not None and bank.base0 < 0 else 0, dtype=_I16
        )

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

    def _run(self, new: npt.NDArray[np.int16], *, final: bool) -> bytes:
        bank = self._bank
        assert bank is not None  # the identity case never gets here
        up, down = bank.up, bank.down
        n_in = self._n_in + len(new)
        n_out = self._n_out
        if final:
            n_end = (2 * n_in * up + down) // (2 * down)  # round(n_in * L / M), halves up
        else:
            # The last output whose newest input, j0 = (n*M + D) // L, has arrived.
            n_end = max(n_out, (n_in * up - 1 - bank.delay) // down + 1)
        # hist starts at the first input that output n_out's group reads.
        sig = np.concatenate((self._hist, new)) if len(self._hist) else new
        pieces: list[bytes] = []
        start = n_out
        slab = _SLAB * up // max(up, down)  # bounds both the input and the output per slab
        while start < n_end:
            stop = min(n_end, start + slab)
            pieces.append(self._compute(sig, start, stop))
            start = stop
        self._n_in = n_in
        self._n_out = n_end
        # Keep the inputs from where the next call's first output group starts reading: a
        # copy, so that neither a large input nor the caller's (mutable) buffer is retained.
        keep_from = (n_end // up - n_out // up) * down
        self._hist = sig[keep_from:].copy()
        return b"".join(pieces)

    def _compute(self, sig: npt.NDArray[np.int16], start: int, stop: int) -> bytes:
        """Outputs ``start..stop-1``; ``sig[0]`` is the input that output group
        ``self._n_out // L`` reads first."""
        bank = self._bank
        assert bank is not None
        up, down, row_in, mats = bank.up, bank.down, bank.row_in, bank.mats
        first_group = start // up
        offset = (first_group - self._n_out // up) * down  # where in sig this slab reads
        rows = -(-(-(-stop // up) - first_group) // (bank.group // up))
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
        y = acc.reshape(-1)[first : first + stop - start]
        np.rint(y, out=y)
        np.clip(y, -32768, 32767, out=y)
        return y.astype(_I16).tobytes()


def resample(pcm16: bytes, from_rate: int, to_rate: int) -> bytes:
    """Resample mono PCM16 (little-endian) from one supported rate to another.

    The output has ``round(len_in * to_rate / from_rate)`` samples, aligned in time with the
    input; equal rates return the input unchanged. Rates other than 8000, 16000, 24000 and
    48000 Hz, and odd-length data, are a :class:`LocalProtocolError`.
    """
    resampler = StreamingResampler(from_rate, to_rate)
    if len(pcm16) & 1:
        raise LocalProtocolError(f"PCM16 data must have an even length, got {len(pcm16)}")
    if from_rate == to_rate:
        return bytes(pcm16)
    return resampler._run(np.frombuffer(pcm16, _I16), final=True)
