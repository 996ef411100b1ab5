"""The fake server's senses and voice: VAD from the session, speech in place of the model's
silent deltas, transcripts of what the user said, and the brain's decisions as scripts."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

import attrs

from .. import wire
from ..audio.formats import PCM16, AudioFormat
from ..errors import LocalProtocolError, RemoteProtocolError
from ..testing.scripts import ResponseScript, ScriptAudio, ScriptCall, ScriptText
from .brain import Decision
from .vad import EnergyVad
from .voice import speech_duration_ms, synthesize_speech

__all__ = [
    "SEMANTIC_SILENCE_MS",
    "SpeechTrack",
    "TranscriptionEvent",
    "Transcripts",
    "brain_script",
    "placeholder_transcript",
    "read_format",
    "silence",
    "token_logprobs",
    "transcript_for",
    "transcript_pieces",
    "transcription_events",
    "vad_for",
]

TranscriptionEvent: TypeAlias = (
    wire.InputAudioTranscriptionDelta | wire.InputAudioTranscriptionCompleted
)

Transcripts: TypeAlias = Mapping[int, str] | Callable[[int, bytes], str | None]
"""The transcript of the n-th committed user audio (0 first): a mapping, or a function of
(n, the audio) that may return None for the placeholder."""

SEMANTIC_SILENCE_MS = {"high": 300, "medium": 500, "auto": 500, "low": 800}
"""Semantic VAD, played as server VAD: how long a pause ends the turn, by eagerness."""

_SILENCE_CODE = {"audio/pcm": b"\x00\x00", "audio/pcmu": b"\xff", "audio/pcma": b"\xd5"}


def read_format(value: Any) -> AudioFormat:
    """A session's audio format, PCM16 when it names none the fake knows."""
    try:
        return AudioFormat.from_wire(value) if value is not None else PCM16
    except (RemoteProtocolError, LocalProtocolError):
        return PCM16


def silence(fmt: AudioFormat, nbytes: int) -> bytes:
    """``nbytes`` of silence: G.711's silence is the code of zero, not the byte zero."""
    code = _SILENCE_CODE[fmt.type]
    return (code * (nbytes // len(code) + 1))[:nbytes]


def _number(detection: Mapping[str, Any], key: str, default: float) -> float:
    value = detection.get(key)
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
    )


def vad_for(detection: Mapping[str, Any] | None, fmt: AudioFormat) -> EnergyVad | None:
    """The energy VAD for a session's ``turn_detection`` (None: push-to-talk)."""
    if not detection:
        return None
    if detection.get("type") == "semantic_vad":
        eagerness = detection.get("eagerness")
        pause = SEMANTIC_SILENCE_MS.get(eagerness if isinstance(eagerness, str) else "auto", 500)
        return EnergyVad(fmt, threshold=0.5, prefix_padding_ms=300, silence_duration_ms=pause)
    return EnergyVad(
        fmt,
        threshold=_number(detection, "threshold", 0.5),
        prefix_padding_ms=int(_number(detection, "prefix_padding_ms", 300)),
        silence_duration_ms=int(_number(detection, "silence_duration_ms", 500)),
    )


@attrs.define(kw_only=True)
class SpeechTrack:
    """One assistant audio item's synthesised speech, handed out delta by delta."""

    audio: bytes
    fmt: AudioFormat
    offset: int = 0

    @property
    def bytes_per_ms(self) -> float:
        return self.fmt.bytes_per_second / 1000

    def take(self, nbytes: int) -> bytes:
        # A scripted duration may differ from the words' own: cut the speech, or pad it.
        piece = self.audio[self.offset : self.offset + nbytes]
        self.offset += nbytes
        return piece + silence(self.fmt, nbytes - len(piece))

    @classmethod
    def speaking(cls, transcript: str, fmt: AudioFormat) -> SpeechTrack:
        return cls(audio=synthesize_speech(transcript, fmt), fmt=fmt)


def placeholder_transcript(ms: float) -> str:
    return f"({ms / 1000:.1f} s of speech)"


def transcript_for(source: Transcripts | None, index: int, audio: bytes, ms: float) -> str:
    text: str | None = None
    if isinstance(source, Mapping):
        text = source.get(index)
    elif source is not None:
        text = source(index, audio)
    return text if text is not None else placeholder_transcript(ms)


def transcript_pieces(text: str) -> list[str]:
    """A transcript's deltas: a word (with its trailing space) each."""
    return re.findall(r"\S+\s*", text) or ([text] if text else [])


def transcription_events(
    completed: wire.InputAudioTranscriptionCompleted,
    text: str,
    new_id: Callable[[str], str],
    *,
    logprobs: bool,
) -> list[TranscriptionEvent]:
    """A turn's input transcription as the server streams it: a delta a word, then
    ``completed`` with the whole ``text`` (and the ``logprobs`` when ``include`` asks)."""
    pieces = transcript_pieces(text)
    out: list[TranscriptionEvent] = [
        wire.InputAudioTranscriptionDelta(
            event_id=new_id("event"),
            item_id=completed.item_id,
            content_index=0,
            delta=piece,
            logprobs=token_logprobs([piece]) if logprobs else None,
        )
        for piece in pieces
    ]
    out.append(
        attrs.evolve(
            completed,
            event_id=new_id("event"),
            transcript=text,
            logprobs=token_logprobs(pieces) if logprobs else None,
        )
    )
    return out


def token_logprobs(pieces: list[str]) -> list[dict[str, Any]]:
    """The ``logprobs`` of transcript pieces, as ``include`` asks for them: one entry a piece,
    its UTF-8 bytes, and a log probability the fake is sure of (it chose the words)."""
    return [{"token": p, "logprob": -0.0001, "bytes": list(p.encode())} for p in pieces]


def brain_script(decision: Decision, *, audio: bool, turn: int) -> ResponseScript:
    """A decision as a response. ``turn`` (a counter) varies the chunking from one response
    to the next, deterministically, as a real model's deltas vary."""
    if decision.tool is not None:
        call = ScriptCall(
            name=decision.tool, arguments=decision.arguments, chunk=6 + 2 * (turn % 5)
        )
        return ResponseScript(outputs=(call,))
    text = decision.text or ""
    if not audio:
        return ResponseScript(outputs=(ScriptText(text=text, chunk=4 + turn % 9),))
    ms = speech_duration_ms(text)
    chunk_ms = 40 + 20 * (turn % 5)  # 40 to 120 ms
    # Transcript deltas spread over the audio deltas, as the real server interleaves them.
    pieces = max(1, math.ceil(ms / chunk_ms))
    spoken = ScriptAudio(
        transcript=text,
        duration_ms=ms,
        chunk_ms=chunk_ms,
        transcript_chunk=max(1, math.ceil(len(text) / pieces)),
    )
    return ResponseScript(outputs=(spoken,))
