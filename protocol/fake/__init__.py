"""The fake Realtime server's parts: speech-like audio, energy VAD (the server itself follows)."""

from __future__ import annotations

from .vad import EnergyVad, SpeechEdge, threshold_dbfs
from .voice import speech_duration_ms, synthesize_speech

__all__ = ["EnergyVad", "SpeechEdge", "speech_duration_ms", "synthesize_speech", "threshold_dbfs"]
