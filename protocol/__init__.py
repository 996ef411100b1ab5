"""The pure core of realtime-sansio: no I/O, no clock, no randomness, no user code.

The names most programs need are here; the submodules hold the rest: ``inputs``, ``events``
and ``effects`` (what ``Session.handle`` takes and gives), ``wire`` (typed events and the
codec), ``config``, ``agent``, ``items``, ``history``, ``audio`` and ``errors``.
"""

from __future__ import annotations

from . import agent, audio, config, effects, errors, events, history, inputs, items, wire
from .agent import (
    Agent,
    FunctionTool,
    GuardrailFunctionOutput,
    Handoff,
    OutputGuardrail,
    ToolArgumentsError,
    ToolContext,
    function_tool,
    handoff,
    output_guardrail,
)
from .audio import PCM16, PCMA, PCMU, AudioFormat
from .config import (
    UNSET,
    GuardrailsSettings,
    ModelConfig,
    NoiseReductionConfig,
    PromptConfig,
    ReconnectPolicy,
    RunConfig,
    SessionModelSettings,
    ToolChoiceFunction,
    TracingConfig,
    TranscriptionConfig,
    TurnDetectionConfig,
)
from .errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from .history import History
from .session import Session

__all__ = [
    "PCM16",
    "PCMA",
    "PCMU",
    "UNSET",
    "Agent",
    "AudioFormat",
    "FunctionTool",
    "GuardrailFunctionOutput",
    "GuardrailsSettings",
    "Handoff",
    "History",
    "LocalProtocolError",
    "ModelConfig",
    "NoiseReductionConfig",
    "OutputGuardrail",
    "PromptConfig",
    "ProtocolError",
    "ReconnectPolicy",
    "RemoteProtocolError",
    "RunConfig",
    "Session",
    "SessionModelSettings",
    "ToolArgumentsError",
    "ToolChoiceFunction",
    "ToolContext",
    "TracingConfig",
    "TranscriptionConfig",
    "TurnDetectionConfig",
    "agent",
    "audio",
    "config",
    "effects",
    "errors",
    "events",
    "function_tool",
    "handoff",
    "history",
    "inputs",
    "items",
    "output_guardrail",
    "wire",
]
