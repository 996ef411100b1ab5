"""The voice pipeline's driver, inputs, models and workflows (the core is
``realtime_sansio.protocol.voice``). See docs/voice.md.

    from realtime_sansio.transports.voice import VoicePipeline, SimpleWorkflow, AudioInput

    pipeline = VoicePipeline(workflow=SimpleWorkflow(lambda text: [f"You said: {text}"]))
    async with pipeline.run(AudioInput.from_wav("question.wav")) as result:
        async for event in result:
            ...
"""

from __future__ import annotations

from realtime_sansio.protocol.voice import (
    STTSettings,
    TTSSettings,
    VoicePipelineConfig,
    VoiceStreamEvent,
    VoiceStreamEventAudio,
    VoiceStreamEventError,
    VoiceStreamEventLifecycle,
    VoiceStreamEventMetrics,
    VoiceStreamEventText,
    VoiceStreamEventTranscript,
)

from .input import AudioInput, StreamedAudioInput
from .models import OpenAISTTModel, OpenAITTSModel, STTModel, TTSModel
from .pipeline import VoicePipeline, VoiceStreamResult
from .workflows import AgentWorkflow, SimpleWorkflow, VoiceWorkflow, WorkflowError

__all__ = [
    "AgentWorkflow",
    "AudioInput",
    "OpenAISTTModel",
    "OpenAITTSModel",
    "STTModel",
    "STTSettings",
    "SimpleWorkflow",
    "StreamedAudioInput",
    "TTSModel",
    "TTSSettings",
    "VoicePipeline",
    "VoicePipelineConfig",
    "VoiceStreamEvent",
    "VoiceStreamEventAudio",
    "VoiceStreamEventError",
    "VoiceStreamEventLifecycle",
    "VoiceStreamEventMetrics",
    "VoiceStreamEventText",
    "VoiceStreamEventTranscript",
    "VoiceStreamResult",
    "VoiceWorkflow",
    "WorkflowError",
]
