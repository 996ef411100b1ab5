"""Hypothesis strategies of valid configuration values, shared by the config tests."""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import strategies as st
from realtime_sansio.protocol.audio.formats import PCM16, PCMA, PCMU
from realtime_sansio.protocol.config import (
    NoiseReductionConfig,
    PromptConfig,
    SessionModelSettings,
    ToolChoiceFunction,
    TracingConfig,
    TranscriptionConfig,
    TurnDetectionConfig,
)

FIELDS = [f.name for f in attrs.fields(SessionModelSettings)]


# --- strategies ------------------------------------------------------------------------------

names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=12)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


millis = st.integers(0, 10_000)
turn_detections = st.builds(
    TurnDetectionConfig.server_vad,
    threshold=maybe(st.floats(0.0, 1.0)),
    prefix_padding_ms=maybe(millis),
    silence_duration_ms=maybe(millis),
    idle_timeout_ms=maybe(millis),
    create_response=maybe(st.booleans()),
    interrupt_response=maybe(st.booleans()),
) | st.builds(
    TurnDetectionConfig.semantic_vad,
    eagerness=maybe(st.sampled_from(["low", "medium", "high", "auto"])),
    create_response=maybe(st.booleans()),
    interrupt_response=maybe(st.booleans()),
)
json_scalars = st.none() | st.booleans() | st.integers(-(2**31), 2**31) | names
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3),
    max_leaves=6,
)
tracing_configs = st.builds(
    TracingConfig,
    workflow_name=maybe(names),
    group_id=maybe(names),
    metadata=maybe(st.dictionaries(names, json_values, max_size=3)),
)
prompt_variables = st.dictionaries(
    names, names | st.builds(lambda t: {"type": "input_text", "text": t}, names), max_size=3
)
prompts = st.builds(PromptConfig, id=names, version=maybe(names), variables=maybe(prompt_variables))
formats = st.sampled_from([PCM16, PCMU, PCMA])

FIELD_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "model_name": names,
    "instructions": st.text(max_size=20),
    "voice": st.sampled_from(["alloy", "marin", "cedar", "nova"]) | names,
    "speed": st.floats(0.25, 1.5) | st.sampled_from([1]),
    "output_modalities": st.sampled_from([["audio"], ["text"]]),
    "input_audio_format": formats,
    "output_audio_format": formats,
    "input_audio_transcription": maybe(
        st.builds(
            TranscriptionConfig,
            model=st.sampled_from(["gpt-4o-mini-transcribe", "gpt-4o-transcribe", "whisper-1"]),
            language=maybe(st.sampled_from(["en", "fr", "de"])),
            prompt=maybe(st.text(max_size=10)),
        )
    ),
    "input_audio_noise_reduction": maybe(
        st.builds(NoiseReductionConfig, type=st.sampled_from(["near_field", "far_field"]))
    ),
    "turn_detection": maybe(turn_detections),
    "tool_choice": st.sampled_from(["auto", "none", "required"])
    | st.builds(ToolChoiceFunction, name=names),
    "max_output_tokens": st.integers(1, 4096) | st.just("inf"),
    "tracing": st.just("auto") | st.none() | tracing_configs,
    "prompt": prompts,
    "truncation": st.sampled_from(["auto", "disabled"]),
}
assert set(FIELD_STRATEGIES) == set(FIELDS)

model_settings = st.fixed_dictionaries({}, optional=FIELD_STRATEGIES).map(
    lambda kwargs: SessionModelSettings(**kwargs)
)
tool_dicts = st.lists(
    st.builds(
        lambda name: {
            "type": "function",
            "name": name,
            "description": "d",
            "parameters": {"type": "object", "properties": {}},
        },
        names,
    ),
    max_size=3,
)
