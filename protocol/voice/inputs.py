"""What the voice pipeline core takes: audio, the effects' answers, playback, the clock.

Audio is 24 kHz mono PCM16 ``bytes`` (the driver converts anything else first). Answers name
the turn or piece of the effect they answer; an answer for a turn or piece that has ended
(cancelled, timed out, interrupted) is ignored, so a late one can never corrupt a later turn.
"""

from __future__ import annotations

import attrs

from .._repr import short_bytes_repr

__all__ = [
    "AnyVoiceInput",
    "AudioChunk",
    "AudioPlayed",
    "InputClosed",
    "Interrupt",
    "Start",
    "SynthesisDone",
    "SynthesisFailed",
    "SynthesizedAudio",
    "TimerFired",
    "Transcribed",
    "TranscriptionFailed",
    "WorkflowDone",
    "WorkflowFailed",
    "WorkflowText",
]


@attrs.frozen(kw_only=True)
class Start:
    """The pipeline begins (the greeting, if the workflow has one, is asked for)."""


@attrs.frozen(kw_only=True)
class AudioChunk:
    """More of the user's audio: 24 kHz mono PCM16 (an odd byte waits for its pair)."""

    data: bytes = attrs.field(repr=short_bytes_repr)


@attrs.frozen(kw_only=True)
class InputClosed:
    """No more audio: the turn in progress ends, the pipeline finishes and says
    ``session_ended``."""


@attrs.frozen(kw_only=True)
class AudioPlayed:
    """The application has played ``ms`` milliseconds of the turn's audio (a running total,
    as with the Realtime session): what barge-in keeps is then exact."""

    turn_id: str
    ms: float


@attrs.frozen(kw_only=True)
class Interrupt:
    """Stop the assistant (a button, a key): every unfinished turn ends as on barge-in, with
    ``turn_interrupted``, what still runs cancelled, and the workflow told what was heard. The
    user's turn in progress, if any, goes on; nothing else is said until the user speaks
    again. With nothing unfinished it does nothing."""


@attrs.frozen(kw_only=True)
class TimerFired:
    """The clock reached ``Pipeline.get_timer()``."""

    now: float


# -- answers to effects --------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Transcribed:
    """The answer to ``Transcribe``: what the user said in the turn."""

    turn_id: str
    text: str


@attrs.frozen(kw_only=True)
class TranscriptionFailed:
    turn_id: str
    error: str


@attrs.frozen(kw_only=True)
class WorkflowText:
    """A piece of the workflow's reply (any size: a token, a sentence)."""

    turn_id: str
    text: str


@attrs.frozen(kw_only=True)
class WorkflowDone:
    turn_id: str


@attrs.frozen(kw_only=True)
class WorkflowFailed:
    turn_id: str
    error: str


@attrs.frozen(kw_only=True)
class SynthesizedAudio:
    """Audio of a piece, 24 kHz mono PCM16, in order (chunks may split a sample)."""

    piece_id: str
    data: bytes = attrs.field(repr=short_bytes_repr)


@attrs.frozen(kw_only=True)
class SynthesisDone:
    piece_id: str


@attrs.frozen(kw_only=True)
class SynthesisFailed:
    piece_id: str
    error: str


AnyVoiceInput = (
    Start
    | AudioChunk
    | InputClosed
    | AudioPlayed
    | Interrupt
    | TimerFired
    | Transcribed
    | TranscriptionFailed
    | WorkflowText
    | WorkflowDone
    | WorkflowFailed
    | SynthesizedAudio
    | SynthesisDone
    | SynthesisFailed
)
