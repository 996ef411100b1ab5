"""Configuration: validation, UNSET vs None, merging, and the GA session payload both ways.

The GA payload is checked against the ``openai`` package's own models with unknown fields
forbidden (tests/oracle.py), for hand-written cases and for random valid settings.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import validate_session_request
from realtime_sansio.protocol.audio.formats import PCM16, PCMA, PCMU
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
    settings_from_session_payload,
    to_session_payload,
)
from realtime_sansio.protocol.errors import LocalProtocolError, RemoteProtocolError

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

# --- the GA payload --------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    model_settings,
    maybe(st.text(max_size=10)),
    maybe(tool_dicts),
    maybe(st.sampled_from(["gpt-realtime", "gpt-realtime-mini"])),
)
def test_every_payload_is_a_valid_ga_session(
    s: SessionModelSettings, instructions: str | None, tools: Any, model: str | None
) -> None:
    payload = to_session_payload(s, instructions=instructions, tools=tools, model=model)
    validate_session_request(payload)
    assert json.loads(json.dumps(payload)) == payload  # plain JSON, nothing else inside


@settings(max_examples=300, deadline=None)
@given(model_settings)
def test_payload_round_trips(s: SessionModelSettings) -> None:
    assert settings_from_session_payload(to_session_payload(s)) == s


# Where a field lives in the GA session object, when not at the top under its own name.
WIRE_PATHS = {
    "model_name": "model",
    "voice": "audio.output.voice",
    "speed": "audio.output.speed",
    "output_audio_format": "audio.output.format",
    "input_audio_format": "audio.input.format",
    "input_audio_transcription": "audio.input.transcription",
    "input_audio_noise_reduction": "audio.input.noise_reduction",
    "turn_detection": "audio.input.turn_detection",
}


def _has(payload: dict[str, Any], dotted: str) -> bool:
    *parents, last = dotted.split(".")
    for key in parents:
        payload = payload.get(key, {})
    return last in payload


@settings(max_examples=200, deadline=None)
@given(model_settings)
def test_only_set_fields_appear(s: SessionModelSettings) -> None:
    payload = to_session_payload(s)
    present = {name: _has(payload, WIRE_PATHS.get(name, name)) for name in FIELDS}
    assert present == {name: s.is_set(name) for name in FIELDS}
    assert "tools" not in payload
    assert all(payload.get("audio", {}).values())  # no empty input/output objects


def test_empty_settings_give_the_bare_session() -> None:
    assert to_session_payload(SessionModelSettings()) == {"type": "realtime"}


def test_documented_example() -> None:
    s = SessionModelSettings(
        voice="marin",
        output_modalities=["audio"],
        input_audio_format=PCM16,
        output_audio_format=PCM16,
        input_audio_transcription=TranscriptionConfig(language="en"),
        input_audio_noise_reduction=NoiseReductionConfig(type="near_field"),
        turn_detection=TurnDetectionConfig.semantic_vad(eagerness="medium"),
        tool_choice="auto",
        tracing="auto",
    )
    tools = [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}]
    payload = to_session_payload(s, instructions="Be brief.", tools=tools, model="gpt-realtime")
    assert payload == {
        "type": "realtime",
        "model": "gpt-realtime",
        "instructions": "Be brief.",
        "output_modalities": ["audio"],
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "transcription": {"model": "gpt-4o-mini-transcribe", "language": "en"},
                "noise_reduction": {"type": "near_field"},
                "turn_detection": {"type": "semantic_vad", "eagerness": "medium"},
            },
            "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"},
        },
        "tools": tools,
        "tool_choice": "auto",
        "tracing": "auto",
    }
    validate_session_request(payload)


def test_push_to_talk_and_other_offs_are_json_null() -> None:
    s = SessionModelSettings(
        turn_detection=None,
        input_audio_transcription=None,
        input_audio_noise_reduction=None,
        tracing=None,
    )
    payload = to_session_payload(s)
    assert payload["audio"]["input"] == {
        "transcription": None,
        "noise_reduction": None,
        "turn_detection": None,
    }
    assert payload["tracing"] is None
    assert '"turn_detection": null' in json.dumps(payload)
    validate_session_request(payload)


def test_server_vad_fields_are_written() -> None:
    vad: dict[str, Any] = {"threshold": 0.6, "prefix_padding_ms": 300, "idle_timeout_ms": 6000}
    vad |= {"silence_duration_ms": 500, "create_response": True, "interrupt_response": False}
    payload = to_session_payload(
        SessionModelSettings(turn_detection=TurnDetectionConfig(**vad, type="server_vad"))
    )
    assert payload["audio"]["input"]["turn_detection"] == {"type": "server_vad", **vad}


def test_settings_win_over_the_keyword_defaults() -> None:
    s = SessionModelSettings(model_name="gpt-realtime-mini", instructions="from settings")
    payload = to_session_payload(s, instructions="from agent", model="gpt-realtime")
    assert payload["model"] == "gpt-realtime-mini"
    assert payload["instructions"] == "from settings"
    bare = to_session_payload(SessionModelSettings(), instructions="", model="gpt-realtime")
    assert bare == {"type": "realtime", "model": "gpt-realtime", "instructions": ""}


def test_tools_none_leaves_them_and_empty_clears_them() -> None:
    assert "tools" not in to_session_payload(SessionModelSettings())
    assert to_session_payload(SessionModelSettings(), tools=())["tools"] == []


def test_tools_are_copied_and_checked() -> None:
    tool: dict[str, Any] = {
        "type": "function",
        "name": "f",
        "parameters": {"type": "object", "properties": {}},
    }
    payload = to_session_payload(SessionModelSettings(), tools=[tool])
    payload["tools"][0]["parameters"]["properties"]["x"] = {}
    assert tool["parameters"]["properties"] == {}
    with pytest.raises(LocalProtocolError, match=r"tools\[0\]"):
        to_session_payload(SessionModelSettings(), tools=[{"name": "no type"}])
    with pytest.raises(LocalProtocolError, match="sequence"):
        to_session_payload(SessionModelSettings(), tools=tool)  # type: ignore[arg-type]


def test_payload_does_not_share_mutable_state_with_settings() -> None:
    s = SessionModelSettings(
        tracing=TracingConfig(metadata={"k": ["v"]}),
        prompt=PromptConfig(id="p", variables={"a": {"type": "input_text", "text": "t"}}),
    )
    payload = to_session_payload(s)
    payload["tracing"]["metadata"]["k"].append("changed")
    payload["prompt"]["variables"]["a"]["text"] = "changed"
    assert to_session_payload(s) == to_session_payload(copy.deepcopy(s))
    assert s.tracing == TracingConfig(metadata={"k": ["v"]})


def test_keyword_arguments_are_checked() -> None:
    with pytest.raises(LocalProtocolError, match="model"):
        to_session_payload(SessionModelSettings(), model="")
    with pytest.raises(LocalProtocolError, match="instructions"):
        to_session_payload(SessionModelSettings(), instructions=3)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="SessionModelSettings"):
        to_session_payload({"voice": "alloy"})  # type: ignore[arg-type]


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


# --- parsing server session objects ----------------------------------------------------------

SESSION_CREATED: dict[str, Any] = {
    "type": "realtime",
    "object": "realtime.session",
    "id": "sess_1",
    "model": "gpt-realtime",
    "output_modalities": ["audio"],
    "instructions": "Default instructions",
    "tools": [],
    "tool_choice": "auto",
    "max_output_tokens": "inf",
    "tracing": None,
    "truncation": "auto",
    "prompt": None,
    "expires_at": 1756324625,
    "include": None,
    "audio": {
        "input": {
            "format": {"type": "audio/pcm", "rate": 24000},
            "transcription": None,
            "noise_reduction": None,
            "turn_detection": {
                "type": "server_vad",
                "threshold": 0.5,
                "prefix_padding_ms": 300,
                "silence_duration_ms": 200,
                "idle_timeout_ms": None,
                "create_response": True,
                "interrupt_response": True,
            },
        },
        "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin", "speed": 1},
    },
}


def test_parses_a_real_session_created() -> None:
    s = settings_from_session_payload(SESSION_CREATED, event_type="session.created")
    assert s == SessionModelSettings(
        model_name="gpt-realtime",
        instructions="Default instructions",
        voice="marin",
        speed=1,
        output_modalities=["audio"],
        input_audio_format=PCM16,
        output_audio_format=PCM16,
        input_audio_transcription=None,
        input_audio_noise_reduction=None,
        turn_detection=TurnDetectionConfig.server_vad(
            threshold=0.5,
            prefix_padding_ms=300,
            silence_duration_ms=200,
            create_response=True,
            interrupt_response=True,
        ),
        tool_choice="auto",
        max_output_tokens="inf",
        tracing=None,
        truncation="auto",
    )
    assert not s.is_set("prompt")  # null prompt: unset, not "off"


def test_parsing_ignores_unknown_fields_and_unrepresentable_values() -> None:
    s = settings_from_session_payload(
        {
            "type": "realtime",
            "future_field": {"x": 1},
            "tool_choice": {"type": "mcp", "server_label": "deepwiki"},
            "truncation": {"type": "retention_ratio", "retention_ratio": 0.8},
            "audio": {
                "output": {"voice": {"id": "voice_1234"}, "new": True},
                "input": {"noise_reduction": {"strength": 0.5}},
            },
        }
    )
    assert s == SessionModelSettings()


def test_parses_semantic_vad_and_function_tool_choice() -> None:
    s = settings_from_session_payload(
        {
            "audio": {"input": {"turn_detection": {"type": "semantic_vad", "eagerness": "low"}}},
            "tool_choice": {"type": "function", "name": "lookup"},
            "tracing": {"workflow_name": "w"},
        }
    )
    assert s.turn_detection == TurnDetectionConfig.semantic_vad(eagerness="low")
    assert s.tool_choice == ToolChoiceFunction(name="lookup")
    assert s.tracing == TracingConfig(workflow_name="w")


TD = "audio.input.turn_detection"
# (where in the session object, the value put there, what the error's field adds to "where")
WRONG_SERVER_VALUES: list[tuple[str, Any, str]] = [
    ("model", 5, ""),
    ("instructions", ["x"], ""),
    ("output_modalities", "audio", ""),
    ("output_modalities", ["audio", "text"], ""),
    ("audio", [], ""),
    ("audio.input", "x", ""),
    ("audio.output.speed", "fast", ""),
    ("audio.output.speed", True, ""),
    ("audio.output.speed", 9.0, ""),
    ("audio.output.voice", 7, ""),
    ("audio.output.format", {"type": "audio/mp3"}, ""),
    ("audio.input.format", {"type": "audio/pcm", "rate": 16000}, ""),
    ("audio.input.format", {"type": ["audio/pcm"]}, ""),
    (TD, {"type": "vad"}, ".type"),
    (TD, {"type": "server_vad", "threshold": "hi"}, ".threshold"),
    (TD, {"type": "server_vad", "threshold": 2}, ""),
    (TD, {"type": "semantic_vad", "eagerness": "x"}, ""),
    ("audio.input.transcription", {"language": 1}, ".language"),
    ("audio.input.noise_reduction", {"type": "x"}, ""),
    ("tool_choice", 3, ""),
    ("tool_choice", {"type": "function"}, ".name"),
    ("tool_choice", {"type": "hosted"}, ".type"),
    ("max_output_tokens", "lots", ""),
    ("max_output_tokens", 1.5, ""),
    ("tracing", "on", ""),
    ("tracing", {"metadata": 3}, ".metadata"),
    ("prompt", {"version": "1"}, ".id"),
    ("truncation", "never", ""),
    ("type", "transcription", ""),
]


@pytest.mark.parametrize(("where", "value", "suffix"), WRONG_SERVER_VALUES)
def test_wrong_server_values_name_the_field(where: str, value: Any, suffix: str) -> None:
    payload: dict[str, Any] = {}
    *parents, last = where.split(".")
    target = payload
    for key in parents:
        target = target.setdefault(key, {})
    target[last] = value
    with pytest.raises(RemoteProtocolError) as info:
        settings_from_session_payload(payload, event_type="session.updated")
    assert info.value.field == where + suffix
    assert info.value.event_type == "session.updated"
    assert where + suffix in str(info.value)


def test_a_non_object_session_is_refused() -> None:
    with pytest.raises(RemoteProtocolError):
        settings_from_session_payload([])  # type: ignore[arg-type]


def _paths(obj: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    if isinstance(obj, dict):
        for key, value in obj.items():
            found.extend(_paths(value, (*prefix, key)))
    return found


@settings(max_examples=300, deadline=None)
@given(st.data(), json_values)
def test_garbage_anywhere_gives_settings_or_remote_error(data: st.DataObject, junk: Any) -> None:
    payload = copy.deepcopy(SESSION_CREATED)
    path = data.draw(st.sampled_from(_paths(payload)[1:]))
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = junk
    try:
        settings_from_session_payload(payload)
    except RemoteProtocolError as exc:
        assert exc.field


# --- RunConfig -------------------------------------------------------------------------------


def test_run_config_defaults() -> None:
    config = RunConfig()
    assert config.model_settings == SessionModelSettings()
    assert config.output_guardrails == ()
    assert config.guardrails_settings.debounce_text_length == 100
    assert config.tracing_disabled is False
    assert config.tool_timeout_s == 30.0
    assert config.max_pending_app_inputs == 256
    assert config.async_tool_calls is True


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
        ({"async_tool_calls": None}, "async_tool_calls"),
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
