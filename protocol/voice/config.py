"""The voice pipeline's settings: speech-to-text, text-to-speech, turns, bounds.

``VoicePipelineConfig`` is the seed's ``Codex.Voice.Config`` in Python form, with what the
pure core needs besides (barge-in, playback, the text splitter, the bounds). Every bound is a
field here, with its default and what happens when it is reached.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from ..config.values import (
    boolean,
    fail,
    nonempty_str,
    one_of,
    optional,
    positive_int,
    unit_interval,
)

__all__ = ["STTSettings", "TTSSettings", "VoicePipelineConfig"]


def _positive_number(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        fail(instance, attribute, "a number > 0", value)


def _speed(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.25 <= value <= 4.0:
        fail(instance, attribute, "a number from 0.25 to 4.0, or None", value)


@attrs.frozen(kw_only=True)
class STTSettings:
    """Speech-to-text: ``POST /v1/audio/transcriptions`` for each turn."""

    model: str = attrs.field(default="gpt-4o-transcribe", validator=nonempty_str)
    language: str | None = attrs.field(default=None, validator=optional(nonempty_str))
    """ISO-639-1 code of the speech ("en"), or None to let the model detect it."""
    prompt: str | None = attrs.field(default=None, validator=optional(nonempty_str))
    """Text to guide the transcription (names, spellings, the previous turn)."""
    temperature: float | None = attrs.field(default=None, validator=optional(unit_interval))


@attrs.frozen(kw_only=True)
class TTSSettings:
    """Text-to-speech: ``POST /v1/audio/speech`` with ``response_format="pcm"`` (24 kHz)."""

    model: str = attrs.field(default="gpt-4o-mini-tts", validator=nonempty_str)
    voice: str = attrs.field(default="nova", validator=nonempty_str)
    instructions: str | None = attrs.field(default=None, validator=optional(nonempty_str))
    """How to speak (tone, pace); the gpt-4o-mini-tts models follow it."""
    speed: float | None = attrs.field(default=None, validator=_speed)


@attrs.frozen(kw_only=True)
class VoicePipelineConfig:
    """How a voice pipeline runs: models' settings, turns, barge-in, bounds."""

    workflow_name: str = attrs.field(default="Voice Agent", validator=nonempty_str)
    stt_settings: STTSettings = attrs.field(factory=STTSettings)
    tts_settings: TTSSettings = attrs.field(factory=TTSSettings)

    barge_in: bool = attrs.field(default=True, validator=boolean)
    """Speech from the user while a turn is unfinished (thinking or speaking) interrupts it:
    its synthesis is cancelled, ``turn_interrupted``, and the workflow keeps only what was
    heard. False: the new turn waits for the previous one (at most ``max_pending_turns``)."""

    playback: Literal["realtime", "instant"] = attrs.field(
        default="realtime", validator=one_of("realtime", "instant")
    )
    """``realtime``: the listener hears the audio in real time from its first chunk, so a
    turn ends (and can be interrupted) until it has been played; ``audio_played`` reports
    make that exact, otherwise the clock estimates it. ``instant``: audio counts as heard as
    soon as it is given out (writing a file, a test). One-shot ``AudioInput`` runs are
    always ``instant``: no later speech can interrupt them."""

    max_synthesis_in_flight: int = attrs.field(default=3, validator=positive_int)
    """Pieces of a reply being synthesised or waiting to be given out, at most. More text
    waits in the splitter's queue; this also bounds the audio held back for ordering."""

    max_pending_turns: int = attrs.field(default=4, validator=positive_int)
    """Finished user turns waiting for an answer (barge-in off); one more is dropped with a
    ``VoiceStreamEventError``."""

    max_turn_s: float = attrs.field(default=60.0, validator=_positive_number)
    """The longest user turn kept: longer speech is cut there and goes on as the next turn."""

    max_piece_audio_s: float = attrs.field(default=60.0, validator=_positive_number)
    """Audio of one piece held back while earlier pieces play; more fails the piece."""

    max_pending_text_chars: int = attrs.field(default=20_000, validator=positive_int)
    """Workflow text waiting for synthesis (pieces not yet sent); more fails the turn."""

    stage_timeout_s: float = attrs.field(default=30.0, validator=_positive_number)
    """A transcription, or a workflow or synthesis that makes no progress for this long,
    fails its turn (a ``VoiceStreamEventError``): nothing waits forever."""

    first_piece_min_chars: int = attrs.field(default=12, validator=positive_int)
    piece_min_chars: int = attrs.field(default=40, validator=positive_int)
    piece_max_chars: int = attrs.field(default=250, validator=positive_int)
    """The text splitter's lengths (see ``voice.splitter``)."""
