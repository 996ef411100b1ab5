"""What the voice pipeline gives the application: audio, lifecycle, errors, captions.

The names are the seed's (``VoiceStreamEventAudio``, ``VoiceStreamEventLifecycle``,
``VoiceStreamEventError``); every event carries its turn id, so a UI can show the user's
words (``VoiceStreamEventTranscript``) and the text being spoken (``VoiceStreamEventText``,
given just before that text's audio) as captions. Every turn ends with exactly one
``turn_ended`` or ``turn_interrupted``; ``session_ended`` is the last event of all.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

import attrs

from .._repr import short_bytes_repr

__all__ = [
    "LifecycleEvent",
    "VoiceStreamEvent",
    "VoiceStreamEventAudio",
    "VoiceStreamEventError",
    "VoiceStreamEventLifecycle",
    "VoiceStreamEventMetrics",
    "VoiceStreamEventText",
    "VoiceStreamEventTranscript",
]

LifecycleEvent: TypeAlias = Literal[
    "turn_started", "turn_ended", "turn_interrupted", "session_ended"
]


@attrs.frozen(kw_only=True)
class VoiceStreamEventAudio:
    """Reply audio to play: 24 kHz mono PCM16, whole samples, in the workflow's order."""

    data: bytes = attrs.field(repr=short_bytes_repr)
    turn_id: str
    piece_id: str


@attrs.frozen(kw_only=True)
class VoiceStreamEventLifecycle:
    """``turn_started`` (the user began to speak, or the greeting), ``turn_ended``,
    ``turn_interrupted`` (barge-in), ``session_ended`` (``turn_id`` None)."""

    event: LifecycleEvent
    turn_id: str | None = None


@attrs.frozen(kw_only=True)
class VoiceStreamEventError:
    """A turn failed at ``stage``; the turn then ends and the pipeline goes on."""

    error: str
    turn_id: str | None = None
    stage: Literal["transcription", "workflow", "synthesis", "input"] = "workflow"


@attrs.frozen(kw_only=True)
class VoiceStreamEventTranscript:
    """What the user said in the turn (the speech-to-text result)."""

    turn_id: str
    text: str


@attrs.frozen(kw_only=True)
class VoiceStreamEventText:
    """The text whose audio comes next: a caption."""

    turn_id: str
    piece_id: str
    text: str


@attrs.frozen(kw_only=True)
class VoiceStreamEventMetrics:
    """Latencies of a turn in milliseconds of the injected clock, given as the turn ends;
    None where the turn had no such moment.

    ``end_of_speech_to_first_audio_ms``: the VAD found the end of the user's speech (after its
    ``min_silence_ms``) -> the first reply audio. ``transcription_ms``: ``Transcribe`` ->
    ``Transcribed``. ``first_text_to_first_audio_ms``: the workflow's first text -> the first
    audio. ``audio_ms``: reply audio given out; ``heard_ms``: what was heard of it.
    """

    turn_id: str
    end_of_speech_to_first_audio_ms: float | None
    transcription_ms: float | None
    first_text_to_first_audio_ms: float | None
    audio_ms: float
    heard_ms: float


VoiceStreamEvent = (
    VoiceStreamEventAudio
    | VoiceStreamEventLifecycle
    | VoiceStreamEventError
    | VoiceStreamEventTranscript
    | VoiceStreamEventText
    | VoiceStreamEventMetrics
)
