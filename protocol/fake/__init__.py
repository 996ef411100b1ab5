"""The fake Realtime server: a pure ``ServerCore`` speaking the GA protocol (or beta), with
speech-like audio, an energy VAD, a default brain, a latency model, and scripts for tests and
fault injection.
See docs/fake-server.md."""

from __future__ import annotations

from ._shapes import MAX_NESTING
from .brain import Decision, decide
from .host import CloseConnection, RawFrame, ServerCore, ServerOutput
from .latency import INSTANT, REALISTIC_LATENCY, REALISTIC_PACE, Latency
from .scripts import (
    Delay,
    DropAfter,
    ErrorEvent,
    Expect,
    Expire,
    FakeScript,
    Garbage,
    Respond,
    ScriptStep,
    Send,
    UnknownEvent,
)
from .server import FakeRealtimeServer, FakeServerConfig, FakeServers, Mismatch, counter_ids
from .vad import EnergyVad, SpeechEdge, threshold_dbfs
from .voice import speech_duration_ms, synthesize_speech

__all__ = [
    "INSTANT",
    "MAX_NESTING",
    "REALISTIC_LATENCY",
    "REALISTIC_PACE",
    "CloseConnection",
    "Decision",
    "Delay",
    "DropAfter",
    "EnergyVad",
    "ErrorEvent",
    "Expect",
    "Expire",
    "FakeRealtimeServer",
    "FakeScript",
    "FakeServerConfig",
    "FakeServers",
    "Garbage",
    "Latency",
    "Mismatch",
    "RawFrame",
    "Respond",
    "ScriptStep",
    "Send",
    "ServerCore",
    "ServerOutput",
    "SpeechEdge",
    "UnknownEvent",
    "counter_ids",
    "decide",
    "speech_duration_ms",
    "synthesize_speech",
    "threshold_dbfs",
]
