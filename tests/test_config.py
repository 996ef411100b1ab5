"""Configuration: UNSET vs None, merging, validation, RunConfig and ModelConfig."""

from __future__ import annotations

import math
from typing import Any

import attrs
import pytest
from config_strategies import FIELDS, model_settings
from hypothesis import given, settings
from realtime_sansio.protocol.config import (
    UNSET,
    GuardrailsSettings,
    ModelConfig,
    NoiseReductionConfig,
    PromptConfig,
    RunConfig,
    SessionModelSettings,
    ToolChoiceFunction,
    TracingConfig,
    TranscriptionConfig,
    TurnDetectionConfig,
    Unset,
    to_session_payload,
)
from realtime_sansio.protocol.errors import LocalProtocolError

# --- UNSET, merge, is_set --------------------------------------------------------------------


def test_unset_is_a_typed_singleton() -> None:
    assert UNSET is Unset.UNSET
    assert repr(UNSET) == "UNSET"
    s = SessionModelSettings()
    assert all(getattr(s, name) is UNSET for name in FIELDS)
    assert not any(s.is_set(name) for name in FIELDS)


def test_none_is_set_and_distinct_from_unset() -> None:
    ptt = SessionModelSettings(turn_detection=None)
    assert ptt.is_set("turn_detection")
    assert ptt.turn_detection is None
    assert ptt != SessionModelSettings()
    assert ptt.set_fields() == {"turn_detection": None}


def test_is_set_refuses_unknown_names() -> None:
    with pytest.raises(LocalProtocolError, match="no field 'colour'"):
        SessionModelSettings().is_set("colour")


@settings(max_examples=200, deadline=None)
@given(model_settings, model_settings)
def test_merge_takes_every_field_set_in_other(
    a: SessionModelSettings, b: SessionModelSettings
) -> None:
    merged = a.merge(b)
    for name in FIELDS:
        expected = getattr(b, name) if b.is_set(name) else getattr(a, name)
        assert getattr(merged, name) == expected
    assert a.merge(SessionModelSettings()) == a
    assert SessionModelSettings().merge(a) == a
    assert merged.merge(b) == merged


def test_merge_with_none_turns_a_feature_off() -> None:
    base = SessionModelSettings(turn_detection=TurnDetectionConfig.server_vad(), voice="alloy")
    merged = base.merge(SessionModelSettings(turn_detection=None))
    assert merged.turn_detection is None
    assert merged.voice == "alloy"
    with pytest.raises(LocalProtocolError, match="merge"):
        base.merge({"voice": "x"})  # type: ignore[arg-type]


def test_repr_shows_only_set_fields() -> None:
    assert repr(SessionModelSettings()) == "SessionModelSettings()"
    assert repr(SessionModelSettings(voice="alloy", turn_detection=None)) == (
        "SessionModelSettings(voice='alloy', turn_detection=None)"
    )


def test_settings_are_frozen_and_copy_their_inputs() -> None:
    s = SessionModelSettings(voice="alloy")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        s.voice = "ash"  # type: ignore[misc]
    metadata: dict[str, Any] = {"k": "v"}
    tracing = TracingConfig(metadata=metadata)
    metadata["k"] = "changed"
    assert tracing.metadata == {"k": "v"}
    modalities = ["text"]
    s2 = SessionModelSettings(output_modalities=modalities)  # type: ignore[arg-type]
    modalities[0] = "audio"
    assert s2.output_modalities == ("text",)


def test_prompt_accepts_the_ga_dict() -> None:
    s = SessionModelSettings(prompt={"id": "pmpt_1", "version": "2", "variables": {"x": "y"}})
    assert s.prompt == PromptConfig(id="pmpt_1", version="2", variables={"x": "y"})
    with pytest.raises(LocalProtocolError, match="unknown key"):
        SessionModelSettings(prompt={"id": "p", "verison": "2"})
    with pytest.raises(LocalProtocolError, match="needs an 'id'"):
        SessionModelSettings(prompt={"version": "2"})


# --- validation ------------------------------------------------------------------------------

INVALID: list[tuple[str, Any, str]] = [
    ("speed", 1.6, "speed must be a number between 0.25 and 1.5"),
    ("speed", 0.2, "speed"),
    ("speed", math.nan, "speed"),
    ("speed", True, "speed"),
    ("speed", "fast", "speed"),
    ("voice", "", "voice must be a non-empty str"),
    ("voice", None, "voice"),
    ("voice", {"id": "voice_1"}, "voice"),
    ("output_modalities", ["audio", "text"], "exactly one of"),
    ("output_modalities", [], "exactly one of"),
    ("output_modalities", ["video"], "exactly one of"),
    ("output_modalities", "audio", "not a bare str"),
    ("input_audio_format", "audio/pcm", "AudioFormat"),
    ("output_audio_format", None, "AudioFormat"),
    ("turn_detection", {"type": "server_vad"}, "TurnDetectionConfig or None"),
    ("input_audio_transcription", "whisper-1", "TranscriptionConfig or None"),
    ("input_audio_noise_reduction", "near_field", "NoiseReductionConfig or None"),
    ("tool_choice", "get_weather", "ToolChoiceFunction"),
    ("tool_choice", None, "tool_choice"),
    ("max_output_tokens", 0, "1 to 4096"),
    ("max_output_tokens", 4097, "1 to 4096"),
    ("max_output_tokens", "infinite", "'inf'"),
    ("max_output_tokens", 1.5, "'inf'"),
    ("tracing", "on", "'auto', a TracingConfig, or None"),
    ("truncation", "retention_ratio", "'auto' or 'disabled'"),
    ("truncation", None, "truncation"),
    ("prompt", "pmpt_1", "PromptConfig"),
    ("model_name", "", "model_name"),
    ("instructions", None, "instructions must be a str"),
]


@pytest.mark.parametrize(("field", "value", "message"), INVALID)
def test_invalid_settings_are_refused(field: str, value: Any, message: str) -> None:
    with pytest.raises(LocalProtocolError, match=message) as info:
        SessionModelSettings(**{field: value})
    assert isinstance(info.value, ValueError)


def test_pcm_rate_is_refused_by_audio_format() -> None:
    from realtime_sansio.protocol.audio.formats import AudioFormat

    with pytest.raises(LocalProtocolError, match="24000"):
        SessionModelSettings(input_audio_format=AudioFormat(type="audio/pcm", rate=16000))


def test_turn_detection_refuses_fields_of_the_other_type() -> None:
    with pytest.raises(LocalProtocolError, match=r"eagerness do not apply to type='server_vad'"):
        TurnDetectionConfig(type="server_vad", eagerness="low")
    with pytest.raises(LocalProtocolError, match=r"threshold, idle_timeout_ms do not apply"):
        TurnDetectionConfig(type="semantic_vad", threshold=0.5, idle_timeout_ms=10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"type": "vad"}, "type must be one of 'server_vad', 'semantic_vad'"),
        ({"type": "semantic_vad", "eagerness": "eager"}, "eagerness must be one of"),
        ({"type": "server_vad", "threshold": 1.5}, "threshold must be a number between"),
        ({"type": "server_vad", "threshold": -0.1}, "threshold"),
        ({"type": "server_vad", "threshold": math.nan}, "threshold"),
        ({"type": "server_vad", "prefix_padding_ms": -1}, "prefix_padding_ms must be an int >= 0"),
        ({"type": "server_vad", "silence_duration_ms": 0.5}, "silence_duration_ms"),
        ({"type": "server_vad", "idle_timeout_ms": True}, "idle_timeout_ms"),
        ({"type": "server_vad", "create_response": 1}, "create_response must be a bool"),
        ({"type": "semantic_vad", "interrupt_response": "no"}, "interrupt_response"),
    ],
)
def test_turn_detection_values_are_checked(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        TurnDetectionConfig(**kwargs)


def test_turn_detection_constructors() -> None:
    assert TurnDetectionConfig.semantic_vad(eagerness="high") == TurnDetectionConfig(
        type="semantic_vad", eagerness="high"
    )
    assert TurnDetectionConfig.server_vad().to_wire() == {"type": "server_vad"}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: TranscriptionConfig(model=""), "TranscriptionConfig.model"),
        (lambda: TranscriptionConfig(language=""), "TranscriptionConfig.language"),
        (
            lambda: NoiseReductionConfig(type="near"),  # type: ignore[arg-type]
            "NoiseReductionConfig.type must be one of",
        ),
        (
            lambda: TracingConfig(metadata=["x"]),  # type: ignore[arg-type]
            "TracingConfig.metadata must be a mapping",
        ),
        (lambda: TracingConfig(group_id=""), "TracingConfig.group_id"),
        (lambda: ToolChoiceFunction(name=""), "ToolChoiceFunction.name"),
        (lambda: GuardrailsSettings(debounce_text_length=0), "debounce_text_length must be"),
        (lambda: PromptConfig(id="p", variables={"v": 3}), "PromptConfig.variables"),
    ],
)
def test_value_types_are_checked(make: Any, message: str) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        make()


def test_tool_choice_function_serialises_to_ga() -> None:
    payload = to_session_payload(SessionModelSettings(tool_choice=ToolChoiceFunction(name="f")))
    assert payload["tool_choice"] == {"type": "function", "name": "f"}


# --- RunConfig -------------------------------------------------------------------------------


def test_run_config_defaults() -> None:
    config = RunConfig()
    assert config.model_settings == SessionModelSettings()
    assert config.output_guardrails == ()
    assert config.guardrails_settings.debounce_text_length == 100
    assert config.tracing_disabled is False
    assert config.tool_timeout_s == 30.0
    assert config.max_pending_app_inputs == 256


def test_run_config_effective_tracing() -> None:
    assert RunConfig().effective_tracing == "auto"
    traced = SessionModelSettings(tracing=TracingConfig(workflow_name="w"))
    assert RunConfig(model_settings=traced).effective_tracing == TracingConfig(workflow_name="w")
    assert RunConfig(model_settings=traced, tracing_disabled=True).effective_tracing is None
    off = SessionModelSettings(tracing=None)
    assert RunConfig(model_settings=off).effective_tracing is None


def test_run_config_keeps_guardrails_as_a_tuple() -> None:
    def guard() -> None:
        return None

    assert RunConfig(output_guardrails=[guard]).output_guardrails == (guard,)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tool_timeout_s": 0}, "tool_timeout_s must be a number of seconds > 0"),
        ({"tool_timeout_s": -1.0}, "tool_timeout_s"),
        ({"tool_timeout_s": math.nan}, "tool_timeout_s"),
        ({"max_pending_app_inputs": 0}, "max_pending_app_inputs must be an int >= 1"),
        ({"tracing_disabled": "yes"}, "tracing_disabled must be a bool"),
        ({"model_settings": {"voice": "alloy"}}, "model_settings must be a SessionModelSettings"),
        ({"guardrails_settings": 100}, "guardrails_settings"),
        ({"output_guardrails": "guard"}, "output_guardrails must be a sequence"),
    ],
)
def test_run_config_validation(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        RunConfig(**kwargs)


def test_run_config_accepts_no_tool_timeout() -> None:
    assert RunConfig(tool_timeout_s=None).tool_timeout_s is None


# --- ModelConfig -----------------------------------------------------------------------------

SECRET = "sk-proj-THIS-MUST-NOT-LEAK-1234"


def test_api_key_never_appears_in_repr() -> None:
    config = ModelConfig(api_key=SECRET)
    assert SECRET not in repr(config)
    assert SECRET not in str(config)
    assert "api_key=<set>" in repr(config)
    assert config.api_key == SECRET


def test_callable_api_key_is_held_not_called() -> None:
    calls: list[int] = []

    def key() -> str:
        calls.append(1)
        return SECRET

    config = ModelConfig(api_key=key)
    assert "api_key=<callable>" in repr(config)
    assert SECRET not in repr(config)
    assert calls == []
    assert "api_key=None" in repr(ModelConfig())


def test_secret_headers_are_masked_in_repr() -> None:
    config = ModelConfig(
        headers={
            "Authorization": f"Bearer {SECRET}",
            "api-key": SECRET,
            "X-Api-Key": SECRET,
            "X-Trace": "visible",
        }
    )
    text = repr(config)
    assert SECRET not in text
    assert "visible" in text
    assert text.count("<redacted>") == 3
    assert config.headers["Authorization"] == f"Bearer {SECRET}"


def test_bad_api_key_error_does_not_echo_the_value() -> None:
    with pytest.raises(LocalProtocolError, match="api_key") as info:
        ModelConfig(api_key=SECRET.encode())  # type: ignore[arg-type]
    assert SECRET not in str(info.value)
    with pytest.raises(LocalProtocolError) as info:
        ModelConfig(headers={"Authorization": f"Bearer {SECRET}\r\nX: y"})
    assert SECRET not in str(info.value)


def test_model_config_defaults_and_headers_are_a_private_copy() -> None:
    headers = {"X-Trace": "1"}
    config = ModelConfig(headers=headers)
    headers["X-Trace"] = "2"
    assert config.headers == {"X-Trace": "1"}
    with pytest.raises(TypeError):
        config.headers["X-Trace"] = "3"  # type: ignore[index]
    default = ModelConfig()
    assert (default.url, default.call_id, default.dialect, default.model) == (
        None,
        None,
        "ga",
        "gpt-realtime",
    )
    assert default.initial_model_settings == SessionModelSettings()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dialect": "v1"}, "dialect must be one of 'ga', 'beta'"),
        ({"url": "https://api.openai.com/v1/realtime"}, "ws:// or wss://"),
        ({"url": ""}, "url"),
        ({"model": ""}, "model must be a non-empty str"),
        ({"call_id": ""}, "call_id"),
        ({"headers": [("a", "b")]}, "headers must be a mapping"),
        ({"headers": {"": "b"}}, "invalid header name"),
        ({"headers": {"X-A": 1}}, "must be a str"),
        ({"initial_model_settings": {}}, "initial_model_settings"),
    ],
)
def test_model_config_validation(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        ModelConfig(**kwargs)


def test_model_config_beta_and_sip() -> None:
    config = ModelConfig(dialect="beta", call_id="rtc_123", url="wss://example.test/v1/realtime")
    assert (config.dialect, config.call_id) == ("beta", "rtc_123")
