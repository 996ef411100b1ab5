"""read_wav on hand-made files: every chunk layout it must read, and every broken file it must
name exactly (the stdlib ``wave`` is no oracle here: before 3.12 it refuses EXTENSIBLE)."""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from realtime_sansio.protocol import LocalProtocolError
from realtime_sansio.protocol.audio import WavWarning, read_wav, write_wav

GUID_TAIL = bytes.fromhex("000000001000800000aa00389b71")
PCM = bytes(range(1, 17))  # 16 bytes: 8 mono frames, 4 stereo ones


def chunk(chunk_id: bytes, body: bytes, *, size: int | None = None) -> bytes:
    """One chunk; an odd-sized body gets its pad byte."""
    declared = len(body) if size is None else size
    return chunk_id + struct.pack("<I", declared) + body + b"\0" * (len(body) % 2)


def fmt(
    tag: int = 1, channels: int = 1, rate: int = 16000, bits: int = 16, extra: bytes = b""
) -> bytes:
    block = channels * bits // 8
    header = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    return chunk(b"fmt ", header + extra)


def extensible(subformat: int = 1, channels: int = 2, bits: int = 16, guid: bytes = b"") -> bytes:
    guid = guid or struct.pack("<H", subformat) + GUID_TAIL
    extra = struct.pack("<HHI", 22, bits, 0b11) + guid  # cbSize, valid bits, channel mask
    return fmt(0xFFFE, channels, 48000, bits, extra)


def riff(*chunks: bytes) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def read(data: bytes) -> tuple[bytes, int, int]:
    """read_wav of bytes, with any warning an error (the tests that expect one catch it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return read_wav(io.BytesIO(data))


def refused(data: bytes) -> str:
    with pytest.raises(LocalProtocolError) as caught:
        read(data)
    return str(caught.value)


# -- what it reads ------------------------------------------------------------------------------


def test_a_plain_pcm_file() -> None:
    assert read(riff(fmt(), chunk(b"data", PCM))) == (PCM, 16000, 1)


def test_wave_format_extensible_with_the_pcm_subformat() -> None:
    assert read(riff(extensible(channels=2), chunk(b"data", PCM))) == (PCM, 48000, 2)


def test_unknown_chunks_are_skipped_odd_sizes_with_their_pad_byte() -> None:
    data = riff(
        chunk(b"LIST", b"INFOISFT\x05\x00\x00\x00Lavf\x00"),  # 17 bytes: a pad byte follows
        fmt(),
        chunk(b"fact", struct.pack("<I", 8)),
        chunk(b"data", PCM),
        chunk(b"id3 ", b"x" * 9),
    )
    assert read(data) == (PCM, 16000, 1)


def test_fmt_after_data_is_still_found() -> None:
    assert read(riff(chunk(b"data", PCM), fmt(rate=8000))) == (PCM, 8000, 1)


def test_an_odd_sized_data_chunk_before_another_chunk() -> None:
    data = riff(fmt(channels=1), chunk(b"data", PCM + b"\x01\x02\x03"), chunk(b"LIST", b"ab"))
    with pytest.warns(WavWarning, match="1 byte of a partial frame dropped"):
        assert read_wav(io.BytesIO(data)) == (PCM + b"\x01\x02", 16000, 1)


@pytest.mark.parametrize("size", [0, 0xFFFFFFFF])
def test_a_streamed_file_reads_to_the_end(size: int) -> None:
    """A writer that could not seek back leaves 0 or 0xFFFFFFFF as the data size."""
    data = riff(fmt(), chunk(b"data", b"", size=size)) + PCM
    assert read(data) == (PCM, 16000, 1)


def test_an_empty_data_chunk() -> None:
    assert read(riff(fmt(), chunk(b"data", b""))) == (b"", 16000, 1)


def test_what_write_wav_writes_and_a_file_object_from_where_it_stands() -> None:
    buffer = io.BytesIO(b"prefix")
    buffer.seek(6)
    write_wav(buffer, PCM, 24000, channels=2)
    buffer.seek(6)
    assert read_wav(buffer) == (PCM, 24000, 2)


# -- what it refuses, and how it says so ---------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a WAV file: the file is empty"),
        (b"RIFF\x00\x00", "a truncated WAV file: 6 bytes, shorter than a RIFF header (12)"),
        (b"ID3\x04 an mp3 file", r"not a WAV file: it starts with b'ID3\x04 an mp3 ', not RIFF"),
        (b"RIFF\x04\x00\x00\x00AVI LIST", "not a WAV file: it starts with b'RIFF\\x04\\x00"),
        (b"RF64\xff\xff\xff\xffWAVE", "an RF64 file (WAV over 4 GiB): not supported"),
        (b"RIFX\x00\x00\x00\x04WAVE", "a big-endian RIFX file"),
    ],
)
def test_files_that_are_not_riff_wave(data: bytes, message: str) -> None:
    assert refused(data).startswith(message)


def test_missing_chunks_are_named_with_the_chunks_found() -> None:
    assert (
        refused(riff())
        == "a WAV file without a fmt chunk (the sample format) (no chunks after the header)"
    )
    assert refused(riff(chunk(b"LIST", b"ab"), chunk(b"data", PCM))) == (
        "a WAV file without a fmt chunk (the sample format) (chunks found: 'LIST', 'data')"
    )
    assert refused(riff(fmt(), chunk(b"LIST", b"ab"))) == (
        "a WAV file without a data chunk (chunks found: 'fmt ', 'LIST')"
    )
    many = riff(*[chunk(b"junk", b"") for _ in range(10)])
    assert refused(many).endswith("'junk' and 2 more)")


def test_a_broken_fmt_chunk() -> None:
    assert refused(riff(chunk(b"fmt ", bytes(14)))) == (
        "a WAV fmt chunk of 14 bytes, too short (PCM's has 16)"
    )
    assert refused(riff(fmt())[:-4]) == ("a truncated WAV file: 32 bytes, it ends in its fmt chunk")


@pytest.mark.parametrize(
    ("tag", "name"),
    [
        (3, "IEEE float (format tag 0x0003)"),
        (2, "Microsoft ADPCM (format tag 0x0002)"),
        (0x11, "IMA ADPCM (format tag 0x0011)"),
        (6, "A-law (format tag 0x0006)"),
        (7, "mu-law (format tag 0x0007)"),
        (0x55, "MPEG Layer III (MP3) (format tag 0x0055)"),
        (0x1234, "an unknown format (format tag 0x1234)"),
    ],
)
def test_other_formats_are_named(tag: int, name: str) -> None:
    data = riff(fmt(tag, bits=32 if tag == 3 else 8), chunk(b"data", PCM))
    assert refused(data) == f"only 16-bit PCM WAV is supported, this file is {name}"


def test_extensible_with_another_subformat_or_a_broken_chunk() -> None:
    assert refused(riff(extensible(subformat=3, bits=32), chunk(b"data", PCM))) == (
        "only 16-bit PCM WAV is supported, this file is IEEE float (format tag 0x0003)"
        " (in WAVE_FORMAT_EXTENSIBLE)"
    )
    odd_guid = bytes(range(16))
    assert refused(riff(extensible(guid=odd_guid), chunk(b"data", PCM))) == (
        f"a WAVE_FORMAT_EXTENSIBLE file with an unknown subformat GUID {odd_guid.hex()}"
    )
    short = fmt(0xFFFE, extra=struct.pack("<H", 0))  # cbSize 0: no GUID at all
    assert refused(riff(short, chunk(b"data", PCM))) == (
        "a WAVE_FORMAT_EXTENSIBLE fmt chunk of 18 bytes, too short (40)"
    )


@pytest.mark.parametrize("bits", [8, 24, 32])
def test_other_sample_widths(bits: int) -> None:
    for made in (fmt(bits=bits), extensible(bits=bits)):
        assert refused(riff(made, chunk(b"data", PCM))) == (
            f"only 16-bit PCM WAV is supported, this file has {bits}-bit samples"
        )


def test_zero_channels_or_a_zero_rate() -> None:
    assert refused(riff(fmt(channels=0), chunk(b"data", PCM))) == (
        "a WAV file with 0 channels in its fmt chunk"
    )
    assert refused(riff(fmt(rate=0), chunk(b"data", PCM))) == (
        "a WAV file with a sample rate of 0 Hz in its fmt chunk"
    )


# -- cut short: whole frames, and a warning ------------------------------------------------------


def test_a_file_cut_short_keeps_its_whole_frames() -> None:
    whole = riff(fmt(channels=2), chunk(b"data", PCM * 4))  # 64 bytes of data
    cut = whole[: len(whole) - 64 + 23]  # 23 bytes left: 5 stereo frames and 3 bytes
    with pytest.warns(WavWarning) as caught:
        assert read_wav(io.BytesIO(cut)) == ((PCM * 4)[:20], 16000, 2)
    (warning,) = caught
    assert str(warning.message) == (
        "the data chunk claims 64 bytes but the file ends after 23; 3 bytes of a partial frame"
        " dropped (2-channel 16-bit frames are 4 bytes): read 20 bytes (5 frames)"
    )
    assert warning.filename == __file__  # it points at the caller of read_wav


def test_a_data_size_that_is_not_whole_frames() -> None:
    with pytest.warns(WavWarning) as caught:
        assert read_wav(io.BytesIO(riff(fmt(channels=2), chunk(b"data", PCM[:7])))) == (
            PCM[:4],
            16000,
            2,
        )
    assert str(caught[0].message) == (
        "3 bytes of a partial frame dropped (2-channel 16-bit frames are 4 bytes):"
        " read 4 bytes (1 frame)"
    )


def test_a_path_names_the_file_in_errors_and_warnings(tmp_path: Path) -> None:
    bad, cut = tmp_path / "bad.wav", tmp_path / "cut.wav"
    bad.write_bytes(b"")
    cut.write_bytes(riff(fmt(), chunk(b"data", PCM))[:-1])
    with pytest.raises(LocalProtocolError, match=f"^{bad}: not a WAV file: the file is empty$"):
        read_wav(bad)
    with pytest.warns(WavWarning, match=f"^{cut}: the data chunk claims 16 bytes"):
        read_wav(cut)


@given(st.binary(max_size=80), st.sampled_from([b"", b"RIFF", riff(fmt())]))
def test_any_bytes_read_or_are_refused_clearly(tail: bytes, head: bytes) -> None:
    """Nothing but a result or a LocalProtocolError, whatever the bytes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WavWarning)
        try:
            pcm, rate, channels = read_wav(io.BytesIO(head + tail))
        except LocalProtocolError:
            return
    assert len(pcm) % (2 * channels) == 0 and rate > 0
