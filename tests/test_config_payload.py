"""The GA session payload both ways: written for the model, parsed from the server.

Payloads are checked against the ``openai`` package's own models with unknown fields
forbidden (tests/oracle.py), for hand-written cases and for random valid settings.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from config_strategies import FIELDS, json_values, maybe, model_settings, tool_dicts
from hypothesis import example, given, settings
from hypothesis import strategies as st
from oracle import validate_beta_client_event, validate_session_request
from realtime_sansio.protocol.audio.formats import PCM16
from realtime_sansio.protocol.config import (
    NoiseReductionConfig,
    PromptConfig,
    SessionModelSettings,
    ToolChoiceFunction,
    TracingConfig,
    TranscriptionConfig,
    TurnDetectionConfig,
    settings_from_session_payload,
    to_session_payload,
)
from realtime_sansio.protocol.errors import LocalProtocolError, RemoteProtocolError
from realtime_sansio.protocol.wire import beta

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


@settings(max_examples=200, deadline=None)
@given(model_settings)
@example(SessionModelSettings(tool_choice=ToolChoiceFunction(name="none")))
def test_the_beta_shape_is_the_wire_translation_of_the_ga_payload(s: SessionModelSettings) -> None:
    payload = to_session_payload(s)
    choice = s.tool_choice
    if isinstance(choice, ToolChoiceFunction) and choice.name in ("auto", "none", "required"):
        # Beta forces a function by its bare name, which here would read back as the mode.
        with pytest.raises(LocalProtocolError, match="cannot force a function named"):
            beta.session_to_beta(payload)
        return
    flat = beta.session_to_beta(payload)
    # The beta models know only the model names of their day, and not GA's later features
    # (prompt, truncation, idle_timeout_ms), which pass through untranslated: the shape is
    # what is checked.
    checked = {k: v for k, v in flat.items() if k not in ("prompt", "truncation")}
    if isinstance(checked.get("turn_detection"), dict):
        checked["turn_detection"] = {
            k: v for k, v in checked["turn_detection"].items() if k != "idle_timeout_ms"
        }
    if "model" in checked:
        checked["model"] = "gpt-realtime"
    validate_beta_client_event({"type": "session.update", "session": checked})
    assert settings_from_session_payload(beta.session_to_ga(flat)) == s
