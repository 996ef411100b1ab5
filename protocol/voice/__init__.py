"""The voice pipeline's pure core: speech-to-text -> workflow -> text-to-speech, with turns.

``Pipeline`` (``pipeline``) is the state machine, with the Session's contract: inputs in
(``inputs``), events (``events``) and effects (``effects``) out, time injected. Its parts:
the local VADs (``vad``: the protocol, the energy VAD; ``silero``: the neural one, with the
``vad`` extra), the text splitter (``splitter``) and the settings (``config``). The anyio
driver, the models and the workflows are in ``realtime_sansio.transports.voice``. See
docs/voice.md.
"""

from __future__ import annotations

from . import effects, events, inputs
from .config import STTSettings, TTSSettings, VoicePipelineConfig
from .events import (
    VoiceStreamEvent,
    VoiceStreamEventAudio,
    VoiceStreamEventError,
    VoiceStreamEventLifecycle,
    VoiceStreamEventMetrics,
    VoiceStreamEventText,
    VoiceStreamEventTranscript,
)
from .pipeline import Pipeline, VoiceOutput
from .splitter import TextSplitter
from .vad import VAD, EnergyVad, SpeechEdge, SpeechGate

__all__ = [
    "VAD",
    "EnergyVad",
    "Pipeline",
    "STTSettings",
    "SpeechEdge",
    "SpeechGate",
    "TTSSettings",
    "TextSplitter",
    "VoiceOutput",
    "VoicePipelineConfig",
    "VoiceStreamEvent",
    "VoiceStreamEventAudio",
    "VoiceStreamEventError",
    "VoiceStreamEventLifecycle",
    "VoiceStreamEventMetrics",
    "VoiceStreamEventText",
    "VoiceStreamEventTranscript",
    "effects",
    "events",
    "inputs",
]
