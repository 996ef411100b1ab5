"""16-bit PCM WAV files through the stdlib ``wave`` module: the only I/O in the core.

Both functions take a path or an open binary file object. A file object is left open (the
caller owns it); a path is opened and closed here.
"""

from __future__ import annotations

import os
import wave
from typing import IO

from ..errors import LocalProtocolError
from .pcm import check_frames

__all__ = ["read_wav", "write_wav"]

PathOrFile = str | os.PathLike[str] | IO[bytes]


def read_wav(path_or_file: PathOrFile) -> tuple[bytes, int, int]:
    """Read a 16-bit PCM WAV file: ``(interleaved PCM16 bytes, sample_rate, channels)``.

    Other sample widths, compressed or float WAV files, and files that are not WAV at all
    are a :class:`LocalProtocolError` that says what was found.
    """
    if isinstance(path_or_file, str | os.PathLike):
        with open(os.fspath(path_or_file), "rb") as f:
            return _read(f)
    return _read(path_or_file)


def _read(f: IO[bytes]) -> tuple[bytes, int, int]:
    try:
        with wave.open(f, "rb") as w:
            width = w.getsampwidth()
            if width != 2:
                raise LocalProtocolError(
                    f"only 16-bit PCM WAV is supported, this file has {8 * width}-bit samples"
                )
            return w.readframes(w.getnframes()), w.getframerate(), w.getnchannels()
    except (wave.Error, EOFError) as exc:
        # wave.Error covers "not a RIFF file" and "unknown format: 3" (float samples).
        raise LocalProtocolError(f"not a 16-bit PCM WAV file: {exc or 'truncated'}") from exc


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
