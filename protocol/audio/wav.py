"""16-bit PCM WAV files: the only I/O in the core.

Both functions take a path or an open binary file object. A file object is left open (the
caller owns it); a path is opened and closed here.

``read_wav`` parses the RIFF chunks itself rather than through the stdlib ``wave`` module,
which refuses ``WAVE_FORMAT_EXTENSIBLE`` before Python 3.12 and says little about a broken
file. It reads the ``fmt `` and ``data`` chunks wherever they are (other chunks are skipped,
an odd-sized chunk is followed by its pad byte), accepts PCM and EXTENSIBLE with the PCM
subformat, 16-bit, and says exactly what is wrong otherwise. A file cut short, or a data chunk
that is not whole frames, is read up to its last whole frame, with a ``WavWarning`` naming
the bytes dropped. A data size of 0 or 0xFFFFFFFF (a WAV written as a stream, its header
never patched) means "to the end of the file". ``write_wav`` uses ``wave``.
"""

from __future__ import annotations

import os
import struct
import warnings
import wave
from collections.abc import Callable
from typing import IO

from ..errors import LocalProtocolError
from .pcm import check_frames

__all__ = ["WavWarning", "read_wav", "write_wav"]

PathOrFile = str | os.PathLike[str] | IO[bytes]

_RIFF_HEADER = 12  # "RIFF", the size, "WAVE"
_CHUNK_HEADER = 8  # the id, the size
_PCM = 0x0001
_EXTENSIBLE = 0xFFFE
_STREAMED_SIZES = (0, 0xFFFFFFFF)  # placeholders of a writer that could not seek back
# An EXTENSIBLE subformat GUID is the format tag, then these fixed 14 bytes.
_GUID_TAIL = bytes.fromhex("000000001000800000aa00389b71")
_FORMAT_NAMES = {
    0x0002: "Microsoft ADPCM",
    0x0003: "IEEE float",
    0x0006: "A-law",
    0x0007: "mu-law",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0050: "MPEG",
    0x0055: "MPEG Layer III (MP3)",
    0x0092: "Dolby AC-3",
    0x00FF: "AAC",
    0x1610: "HE-AAC",
    0xF1AC: "FLAC",
}


_Fail = Callable[[str], LocalProtocolError]


class WavWarning(UserWarning):
    """A WAV file was read, but not all of it: a truncated file or a partial frame."""


def read_wav(path_or_file: PathOrFile) -> tuple[bytes, int, int]:
    """Read a 16-bit PCM WAV file: ``(interleaved PCM16 bytes, sample_rate, channels)``.

    Anything else (another sample width, float or compressed samples, a file that is not WAV
    or whose header is broken) is a :class:`LocalProtocolError` that says what was found,
    prefixed with the path when one was given. See the module doc for truncated files. The
    whole file is read into memory: it is the caller's audio, asked for by name.
    """
    if isinstance(path_or_file, str | os.PathLike):
        path = os.fspath(path_or_file)
        with open(path, "rb") as f:
            return _parse(f.read(), f"{path}: ")
    return _parse(path_or_file.read(), "")


def _parse(data: bytes, where: str) -> tuple[bytes, int, int]:
    def fail(problem: str) -> LocalProtocolError:
        return LocalProtocolError(f"{where}{problem}")

    _check_riff_header(data, fail)
    fmt: tuple[int, int] | None = None  # the fmt chunk's offset and size
    audio: tuple[int, int] | None = None  # the data chunk's offset and declared size
    seen: list[str] = []
    offset = _RIFF_HEADER
    while offset + _CHUNK_HEADER <= len(data):
        chunk_id, size = struct.unpack_from("<4sI", data, offset)
        body = offset + _CHUNK_HEADER
        seen.append(chunk_id.decode("latin-1"))
        if chunk_id == b"fmt " and fmt is None:
            if body + size > len(data):
                raise fail(f"a truncated WAV file: {len(data)} bytes, it ends in its fmt chunk")
            fmt = (body, size)
        elif chunk_id == b"data" and audio is None:
            audio = (body, size)
            if size in _STREAMED_SIZES or body + size > len(data):
                break  # the audio runs to the end of the file: no chunk can follow
        offset = body + size + (size & 1)
    found = f" (chunks found: {_names(seen)})" if seen else " (no chunks after the header)"
    if fmt is None:
        raise fail(f"a WAV file without a fmt chunk (the sample format){found}")
    channels, rate = _check_format(data, *fmt, fail)
    if audio is None:
        raise fail(f"a WAV file without a data chunk{found}")
    return _audio(data, *audio, channels, where), rate, channels


def _names(chunk_ids: list[str], shown: int = 8) -> str:
    more = f" and {len(chunk_ids) - shown} more" if len(chunk_ids) > shown else ""
    return ", ".join(repr(name) for name in chunk_ids[:shown]) + more


def _check_riff_header(data: bytes, fail: _Fail) -> None:
    if not data:
        raise fail("not a WAV file: the file is empty")
    kind, form = data[:4], data[8:12]
    if kind == b"RF64":
        raise fail("an RF64 file (WAV over 4 GiB): not supported, only RIFF WAV")
    if kind == b"RIFX":
        raise fail("a big-endian RIFX file: only little-endian RIFF WAV is supported")
    if len(data) < _RIFF_HEADER and b"RIFF".startswith(kind):
        raise fail(f"a truncated WAV file: {len(data)} bytes, shorter than a RIFF header (12)")
    if kind != b"RIFF" or form != b"WAVE":
        raise fail(f"not a WAV file: it starts with {data[:12]!r}, not RIFF....WAVE")


def _check_format(data: bytes, body: int, size: int, fail: _Fail) -> tuple[int, int]:
    """The fmt chunk checked: ``(channels, sample_rate)`` of 16-bit PCM."""
    if size < 16:
        raise fail(f"a WAV fmt chunk of {size} bytes, too short (PCM's has 16)")
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", data, body)
    kind = _format_name(tag)
    if tag == _EXTENSIBLE:
        if size < 40:
            raise fail(f"a WAVE_FORMAT_EXTENSIBLE fmt chunk of {size} bytes, too short (40)")
        guid = data[body + 24 : body + 40]
        if guid[2:] != _GUID_TAIL:
            raise fail(f"a WAVE_FORMAT_EXTENSIBLE file with an unknown subformat GUID {guid.hex()}")
        tag = int.from_bytes(guid[:2], "little")
        kind = f"{_format_name(tag)} (in WAVE_FORMAT_EXTENSIBLE)"
    if tag != _PCM:
        raise fail(f"only 16-bit PCM WAV is supported, this file is {kind}")
    if bits != 16:
        raise fail(f"only 16-bit PCM WAV is supported, this file has {bits}-bit samples")
    if channels == 0:
        raise fail("a WAV file with 0 channels in its fmt chunk")
    if rate == 0:
        raise fail("a WAV file with a sample rate of 0 Hz in its fmt chunk")
    return channels, rate


def _format_name(tag: int) -> str:
    name = "PCM" if tag == _PCM else _FORMAT_NAMES.get(tag, "an unknown format")
    return f"{name} (format tag {tag:#06x})"


def _audio(data: bytes, body: int, size: int, channels: int, where: str) -> bytes:
    """The data chunk's whole frames; a warning for what had to be left out."""
    available = len(data) - body
    problems: list[str] = []
    if size in _STREAMED_SIZES:
        size = available
    elif size > available:
        problems.append(f"the data chunk claims {size} bytes but the file ends after {available}")
        size = available
    frame = 2 * channels
    whole = size - size % frame
    if whole < size:
        problems.append(
            f"{_count(size - whole, 'byte')} of a partial frame dropped ({channels}-channel"
            f" 16-bit frames are {frame} bytes)"
        )
    if problems:
        read = f"read {_count(whole, 'byte')} ({_count(whole // frame, 'frame')})"
        warnings.warn(f"{where}{'; '.join(problems)}: {read}", WavWarning, stacklevel=4)
    return data[body : body + whole]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def write_wav(path_or_file: PathOrFile, pcm16: bytes, sample_rate: int, channels: int = 1) -> None:
    """Write interleaved PCM16 as a 16-bit PCM WAV file.

    The frame count is set before the data, so the header is right the first time and a
    non-seekable file object (a pipe, a socket's file) works too.
    """
    if sample_rate <= 0:
        raise LocalProtocolError(f"sample_rate must be positive, got {sample_rate}")
    check_frames(pcm16, channels)
    if isinstance(path_or_file, str | os.PathLike):
        with open(os.fspath(path_or_file), "wb") as f:
            _write(f, pcm16, sample_rate, channels)
    else:
        _write(path_or_file, pcm16, sample_rate, channels)


def _write(f: IO[bytes], pcm16: bytes, sample_rate: int, channels: int) -> None:
    with wave.open(f, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.setnframes(len(pcm16) // (2 * channels))
        w.writeframes(pcm16)
