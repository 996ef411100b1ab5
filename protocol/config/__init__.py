"""Configuration of a Realtime session: model settings, run options, connection options.

``SessionModelSettings`` is what the model is asked for (voice, formats, turn detection, ...),
with every field ``UNSET`` until given; ``RunConfig`` is how the Session behaves; ``ModelConfig``
is how the transport connects. ``to_session_payload`` writes the GA ``session`` object and
``settings_from_session_payload`` reads one back. See docs/configuration.md.
"""

from __future__ import annotations

from .payload import settings_from_session_payload, to_session_payload
from .run import Dialect, ModelConfig, ReconnectPolicy, RunConfig, UserAudioReplay
from .settings import Modality, SessionModelSettings, TracingSetting, Truncation
from .values import (
    UNSET,
    Eagerness,
    GuardrailsSettings,
    NoiseReductionConfig,
    NoiseReductionType,
    PromptConfig,
    ToolChoice,
    ToolChoiceFunction,
    ToolChoiceMode,
    TracingConfig,
    TranscriptionConfig,
    TurnDetectionConfig,
    TurnDetectionType,
    Unset,
)

__all__ = [
    "UNSET",
    "Dialect",
    "Eagerness",
    "GuardrailsSettings",
    "Modality",
    "ModelConfig",
    "NoiseReductionConfig",
    "NoiseReductionType",
    "PromptConfig",
    "ReconnectPolicy",
    "RunConfig",
    "SessionModelSettings",
    "ToolChoice",
    "ToolChoiceFunction",
    "ToolChoiceMode",
    "TracingConfig",
    "TracingSetting",
    "TranscriptionConfig",
    "Truncation",
    "TurnDetectionConfig",
    "TurnDetectionType",
    "Unset",
    "UserAudioReplay",
    "settings_from_session_payload",
    "to_session_payload",
]
