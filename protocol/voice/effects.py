"""What the voice pipeline core asks its driver to do: run the models and the workflow.

Each effect names its answer (``Transcribe`` -> ``Transcribed`` or ``TranscriptionFailed``,
``RunWorkflow`` and ``RunGreeting`` -> ``WorkflowText``... ``WorkflowDone`` or
``WorkflowFailed``, ``Synthesize`` -> ``SynthesizedAudio``... ``SynthesisDone`` or
``SynthesisFailed``). The ``Cancel*`` effects stop work whose answer is no longer wanted;
``ReportHeard`` has no answer.
"""

from __future__ import annotations

import attrs

from .._repr import short_bytes_repr

__all__ = [
    "CancelSynthesis",
    "CancelTranscription",
    "CancelWorkflow",
    "ReportHeard",
    "RunGreeting",
    "RunWorkflow",
    "Synthesize",
    "Transcribe",
    "VoiceEffect",
]


@attrs.frozen(kw_only=True)
class Transcribe:
    """Speech-to-text of one user turn (24 kHz mono PCM16)."""

    turn_id: str
    pcm: bytes = attrs.field(repr=short_bytes_repr)


@attrs.frozen(kw_only=True)
class RunWorkflow:
    """Run the workflow on the user's words; stream its text back."""

    turn_id: str
    transcript: str


@attrs.frozen(kw_only=True)
class RunGreeting:
    """Run the workflow's ``on_start`` greeting; stream its text back."""

    turn_id: str


@attrs.frozen(kw_only=True)
class Synthesize:
    """Text-to-speech of one piece of a reply; stream its audio back."""

    piece_id: str
    turn_id: str
    text: str


@attrs.frozen(kw_only=True)
class CancelTranscription:
    turn_id: str


@attrs.frozen(kw_only=True)
class CancelWorkflow:
    turn_id: str


@attrs.frozen(kw_only=True)
class CancelSynthesis:
    piece_id: str


@attrs.frozen(kw_only=True)
class ReportHeard:
    """The reply of a turn was cut (barge-in, a failure): the listener heard ``heard`` of the
    ``spoken`` text the workflow wrote. A workflow with memory keeps only ``heard``."""

    turn_id: str
    heard: str
    spoken: str


VoiceEffect = (
    Transcribe
    | RunWorkflow
    | RunGreeting
    | Synthesize
    | CancelTranscription
    | CancelWorkflow
    | CancelSynthesis
    | ReportHeard
)
