"""The pipeline core's bookkeeping of one turn: its phase, its reply's pieces, its playback.

A turn's reply is a list of pieces, given out strictly in order: the *head* piece's audio
goes out as it arrives, the next pieces' audio waits in their buffers until the head is
done. ``spoken`` remembers, for each piece given out, where its audio starts in the turn's
audio, so that a position in the audio (what the listener has heard) maps back to text.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Literal, TypeAlias

from ..audio.formats import PCM16
from .splitter import TextSplitter

__all__ = ["MS_PER_CHAR", "Phase", "Piece", "Turn", "heard_text"]

Phase: TypeAlias = Literal["listening", "transcribing", "transcribed", "responding", "finishing"]

MS_PER_CHAR = 65.0
"""A speaking pace (about 15 characters a second) for a piece whose length in audio is not
known yet: only used to guess how much of a half-received piece was heard."""

_BYTES_PER_MS = PCM16.bytes_per_second / 1000


class Piece:
    """One piece of a reply: its text, and its audio until it has all been given out."""

    __slots__ = (
        "announced",
        "audio",
        "carry",
        "done",
        "given_bytes",
        "id",
        "started",
        "text",
        "turn",
    )

    def __init__(self, piece_id: str, turn: Turn, text: str) -> None:
        self.id = piece_id
        self.turn = turn
        self.text = text
        self.started = False  # Synthesize was asked for
        self.done = False  # SynthesisDone came
        self.audio = bytearray()  # received, not yet given out
        self.carry = b""  # an odd byte, waiting for the rest of its sample
        self.given_bytes = 0
        self.announced = False  # its caption was given: it is (or was) the head


class Turn:
    """A user turn and the reply to it (or the greeting, which has no user part)."""

    __slots__ = (
        "deadline",
        "first_audio_at",
        "first_text_at",
        "given_bytes",
        "id",
        "phase",
        "pieces",
        "reported_ms",
        "silent",
        "speech_end_at",
        "splitter",
        "spoken",
        "start_ms",
        "transcribe_at",
        "transcribed_at",
        "transcript",
        "workflow_done",
        "workflow_started",
        "written",
    )

    def __init__(self, turn_id: str, phase: Phase, splitter: TextSplitter) -> None:
        self.id = turn_id
        self.phase: Phase = phase
        self.splitter = splitter
        self.start_ms = 0  # where the user's speech starts in the input
        self.transcript: str | None = None
        self.workflow_started = False
        self.workflow_done = False
        self.written: list[str] = []  # the workflow's text, as written
        self.pieces: deque[Piece] = deque()  # not yet all given out; the head first
        self.spoken: list[tuple[str, int, Piece]] = []  # (text, start byte, piece) given out
        self.given_bytes = 0
        self.reported_ms: float | None = None
        self.silent = False  # a greeting that has not said anything yet: no events
        self.deadline: float | None = None
        self.speech_end_at: float | None = None
        self.transcribe_at: float | None = None
        self.transcribed_at: float | None = None
        self.first_text_at: float | None = None
        self.first_audio_at: float | None = None

    @property
    def given_ms(self) -> float:
        return self.given_bytes / _BYTES_PER_MS

    def played_ms(self, now: float, *, instant: bool) -> float:
        """What the listener has heard: everything (instant playback), the latest report, or
        the clock's estimate from the first audio; never more than was given out."""
        if instant:
            return self.given_ms
        heard = self.reported_ms
        if heard is None:
            heard = 0.0 if self.first_audio_at is None else (now - self.first_audio_at) * 1000
        return max(0.0, min(heard, self.given_ms))

    def in_flight(self) -> int:
        return sum(1 for piece in self.pieces if piece.started)


def heard_text(turn: Turn, heard_ms: float) -> str:
    """The text of ``turn``'s reply up to ``heard_ms`` of its audio: whole pieces heard, and
    the words of the piece being heard in proportion to its audio heard."""
    heard_bytes = heard_ms * _BYTES_PER_MS
    words: list[str] = []
    for text, start, piece in turn.spoken:
        if heard_bytes <= start:
            break
        length = float(piece.given_bytes + len(piece.audio))
        if not piece.done:  # its length is not known yet: at least what came, or a guess
            length = max(length, len(text) * MS_PER_CHAR * _BYTES_PER_MS)
        piece_words = text.split()
        if heard_bytes >= start + length:
            words.extend(piece_words)
            continue
        fraction = (heard_bytes - start) / length if length else 1.0
        words.extend(piece_words[: math.floor(fraction * len(piece_words) + 1e-9)])
        break
    return " ".join(words)
