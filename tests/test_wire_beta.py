"""The beta dialect: a translation at the codec's edge that round-trips with GA."""

from __future__ import annotations

import json
from typing import Any

import pytest
import wire_samples as samples
from hypothesis import given, settings
from hypothesis import strategies as st
from realtime_sansio.protocol import wire
from realtime_sansio.protocol.errors import LocalProtocolError, RemoteProtocolError
from realtime_sansio.protocol.wire import beta


@pytest.mark.parametrize(
    ("ga", "beta_name"),
    [
        ("response.output_audio.delta", "response.audio.delta"),
        ("response.output_audio.done", "response.audio.done"),
        ("response.output_audio_transcript.delta", "response.audio_transcript.delta"),
        ("response.output_audio_transcript.done", "response.audio_transcript.done"),
        ("response.output_text.delta", "response.text.delta"),
        ("response.output_text.done", "response.text.done"),
    ],
)
def test_renamed_server_events(ga: str, beta_name: str) -> None:
    event = wire.decode_server_event(json.dumps(samples.SERVER_SAMPLES[ga]))
    text = wire.encode_server_event(event, dialect="beta")
    assert json.loads(text)["type"] == beta_name
    assert wire.decode_server_event(text, dialect="beta") == event
    # A GA client talking to a beta server would not understand the name: it stays unknown.
    assert isinstance(wire.decode_server_event(text), wire.UnknownServerEvent)


@pytest.mark.parametrize("event_type", sorted(samples.SERVER_SAMPLES))
def test_every_server_event_round_trips_through_beta(event_type: str) -> None:
    event = wire.decode_server_event(json.dumps(samples.SERVER_SAMPLES[event_type]))
    assert (
        wire.decode_server_event(wire.encode_server_event(event, dialect="beta"), dialect="beta")
        == event
    )


@pytest.mark.parametrize("event_type", sorted(samples.CLIENT_SAMPLES))
def test_every_client_event_round_trips_through_beta(event_type: str) -> None:
    event = wire.decode_client_event(json.dumps(samples.CLIENT_SAMPLES[event_type]))
    text = wire.encode_client_event(event, dialect="beta")
    assert wire.decode_client_event(text, dialect="beta") == event


def test_flat_beta_session_shape() -> None:
    flat = beta.session_to_beta(samples.SESSION)
    assert flat == {
        "model": "gpt-realtime",
        "instructions": "Be brief.",
        "modalities": ["audio", "text"],
        "input_audio_format": "pcm16",
        "input_audio_transcription": {"model": "gpt-4o-mini-transcribe"},
        "input_audio_noise_reduction": {"type": "near_field"},
        "turn_detection": samples.SESSION["audio"]["input"]["turn_detection"],
        "output_audio_format": "pcm16",
        "voice": "alloy",
        "speed": 1.0,
        "tools": samples.SESSION["tools"],
        "tool_choice": "auto",
        "max_response_output_tokens": "inf",
        "tracing": "auto",
    }
    assert beta.session_to_ga(flat) == samples.SESSION


@pytest.mark.parametrize(
    ("ga", "flat"),
    [({"type": "audio/pcmu"}, "g711_ulaw"), ({"type": "audio/pcma"}, "g711_alaw")],
)
def test_g711_formats(ga: dict[str, Any], flat: str) -> None:
    session = {"type": "realtime", "audio": {"input": {"format": ga}, "output": {"format": ga}}}
    assert beta.session_to_beta(session) == {
        "input_audio_format": flat,
        "output_audio_format": flat,
    }
    assert beta.session_to_ga(beta.session_to_beta(session)) == session


def test_assistant_content_is_renamed_user_content_is_not() -> None:
    item = {
        "type": "message",
        "role": "assistant",
        "content": [
            {"type": "output_text", "text": "a"},
            {"type": "output_audio", "transcript": "b"},
        ],
    }
    assert [p["type"] for p in beta.item_to_beta(item)["content"]] == ["text", "audio"]
    user = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "a"}]}
    assert beta.item_to_beta(user) == user
    assert beta.item_to_ga(beta.item_to_beta(item)) == item


def test_response_create_parameters_are_flattened() -> None:
    event = wire.decode_client_event(json.dumps(samples.CLIENT_SAMPLES["response.create"]))
    flat = json.loads(wire.encode_client_event(event, dialect="beta"))["response"]
    assert flat["modalities"] == ["text"]
    assert flat["output_audio_format"] == "g711_ulaw"
    assert flat["voice"] == "marin"
    assert "audio" not in flat and "output_modalities" not in flat


def test_bad_format_is_local_when_we_send_it_and_remote_when_they_do() -> None:
    session = {"type": "realtime", "audio": {"input": {"format": {"type": "audio/flac"}}}}
    with pytest.raises(LocalProtocolError):
        wire.encode_client_event(wire.SessionUpdate(session=session), dialect="beta")
    frame = json.dumps(
        {"type": "session.updated", "event_id": "e", "session": {"input_audio_format": "opus"}}
    )
    with pytest.raises(RemoteProtocolError, match="opus"):
        wire.decode_server_event(frame, dialect="beta")
    frame = json.dumps(
        {"type": "session.updated", "event_id": "e", "session": {"input_audio_format": 5}}
    )
    with pytest.raises(RemoteProtocolError):
        wire.decode_server_event(frame, dialect="beta")


def test_a_forced_function_is_its_bare_name_in_beta() -> None:
    session = {"type": "realtime", "tool_choice": {"type": "function", "name": "get_weather"}}
    assert beta.session_to_beta(session) == {"tool_choice": "get_weather"}
    assert beta.session_to_ga(beta.session_to_beta(session)) == session


@pytest.mark.parametrize("mode", ["auto", "none", "required"])
def test_a_forced_function_named_like_a_mode_is_refused_in_beta(mode: str) -> None:
    # Its bare name would be read back as the mode: forcing "none" would mean calling no tool.
    forced = {"type": "function", "name": mode}
    with pytest.raises(LocalProtocolError, match=f"cannot force a function named '{mode}'"):
        wire.encode_client_event(
            wire.SessionUpdate(session={"type": "realtime", "tool_choice": forced}),
            dialect="beta",
        )
    with pytest.raises(LocalProtocolError, match=f"cannot force a function named '{mode}'"):
        wire.encode_client_event(
            wire.ResponseCreate(response={"tool_choice": forced}), dialect="beta"
        )
    # GA says it without ambiguity.
    text = wire.encode_client_event(wire.ResponseCreate(response={"tool_choice": forced}))
    assert json.loads(text)["response"]["tool_choice"] == forced


formats = st.sampled_from(
    [{"type": "audio/pcm", "rate": 24000}, {"type": "audio/pcmu"}, {"type": "audio/pcma"}]
)
turn_detection = st.none() | st.fixed_dictionaries(
    {"type": st.just("semantic_vad")}, optional={"eagerness": st.sampled_from(["low", "auto"])}
)
audio_input = st.fixed_dictionaries(
    {},
    optional={
        "format": formats,
        "turn_detection": turn_detection,
        "transcription": st.none() | st.just({"model": "whisper-1"}),
        "noise_reduction": st.none() | st.just({"type": "far_field"}),
    },
).filter(bool)
audio_output = st.fixed_dictionaries(
    {},
    optional={
        "format": formats,
        "voice": st.sampled_from(["alloy", "marin"]),
        "speed": st.floats(0.25, 1.5),
    },
).filter(bool)
ga_sessions = st.fixed_dictionaries(
    {"type": st.just("realtime")},
    optional={
        "instructions": st.text(max_size=20),
        "output_modalities": st.sampled_from([["audio"], ["text"]]),
        "max_output_tokens": st.integers(1, 4096) | st.just("inf"),
        "tool_choice": st.sampled_from(["auto", "none", "required"]),
        "tracing": st.none() | st.just("auto"),
        "audio": st.fixed_dictionaries(
            {}, optional={"input": audio_input, "output": audio_output}
        ).filter(bool),
    },
)


@settings(max_examples=300)
@given(ga_sessions)
def test_any_ga_session_round_trips_through_beta(session: dict[str, Any]) -> None:
    assert beta.session_to_ga(beta.session_to_beta(session)) == session
