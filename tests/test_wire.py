"""The wire codec: every event type decodes, encodes and round-trips; bad frames fail cleanly."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import attrs
import pytest
import wire_samples as samples
from hypothesis import given, settings
from hypothesis import strategies as st
from realtime_sansio.protocol import wire
from realtime_sansio.protocol.errors import LocalProtocolError, RemoteProtocolError
from realtime_sansio.protocol.wire import beta, speedups

SERVER_TYPES = sorted(samples.SERVER_SAMPLES)
CLIENT_TYPES = sorted(samples.CLIENT_SAMPLES)


@pytest.fixture(scope="module", autouse=True, params=["stdlib", "speed"])
def codec_path(request: pytest.FixtureRequest) -> Any:
    """Every test here runs on both paths of the codec (``speedups``): the standard library's
    and the speed extra's, which must give the same results."""
    if request.param == "speed" and not speedups.AVAILABLE:
        pytest.skip("the speed extra (orjson, pybase64) is not installed")
    was = speedups.active()
    speedups.use(request.param == "speed")
    yield request.param
    speedups.use(was)


def test_every_server_and_client_event_type_is_modelled() -> None:
    assert {c.type for c in wire.SERVER_EVENT_CLASSES} == set(samples.SERVER_SAMPLES)
    assert {c.type for c in wire.CLIENT_EVENT_CLASSES} == set(samples.CLIENT_SAMPLES)
    assert len(wire.SERVER_EVENT_CLASSES) == 46
    assert len(wire.CLIENT_EVENT_CLASSES) == 11


def test_events_are_frozen_slotted_keyword_only() -> None:
    for cls in (*wire.SERVER_EVENT_CLASSES, *wire.CLIENT_EVENT_CLASSES):
        assert "__slots__" in cls.__dict__, cls
        assert all(f.kw_only for f in attrs.fields(cls)), cls
    event = wire.InputAudioBufferCommit()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.event_id = "x"  # type: ignore[misc]


@pytest.mark.parametrize("event_type", SERVER_TYPES)
def test_server_event_decodes_and_reencodes(event_type: str) -> None:
    payload = samples.SERVER_SAMPLES[event_type]
    event = wire.decode_server_event(json.dumps(payload))
    assert type(event).type == event_type  # type: ignore[union-attr]
    # Top-level nulls of optional fields are omitted on encoding; nested objects are kept.
    expected = {k: v for k, v in payload.items() if v is not None}
    if event_type == "error":  # the one typed nested object: its nulls are omitted too
        expected["error"] = samples.strip_nones(payload["error"])
    assert wire.server_event_to_json(event) == expected
    assert wire.decode_server_event(wire.encode_server_event(event).encode()) == event


@pytest.mark.parametrize("event_type", CLIENT_TYPES)
def test_client_event_round_trips(event_type: str) -> None:
    payload = samples.CLIENT_SAMPLES[event_type]
    event = wire.decode_client_event(json.dumps(payload))
    text = wire.encode_client_event(event)
    assert json.loads(text) == payload
    assert wire.decode_client_event(text) == event


@settings(max_examples=200)
@given(
    st.binary(max_size=200).flatmap(
        lambda data: st.sampled_from([data, bytearray(data), memoryview(data)])
    ),
    st.none() | st.text(max_size=8),
)
def test_an_append_encodes_as_its_json_object_does(audio: Any, event_id: str | None) -> None:
    # encode_client_event writes the frame of an append by hand: the same text as json's.
    event = wire.InputAudioBufferAppend(audio=audio, event_id=event_id)
    text = wire.encode_client_event(event)
    assert text == json.dumps(
        wire.client_event_to_json(event), separators=(",", ":"), ensure_ascii=False
    )
    assert wire.decode_client_event(text) == wire.InputAudioBufferAppend(
        audio=bytes(audio), event_id=event_id
    )


def test_audio_is_bytes_decoded_once_at_the_codec() -> None:
    delta = wire.decode_server_event(
        json.dumps(samples.SERVER_SAMPLES["response.output_audio.delta"])
    )
    assert isinstance(delta, wire.ResponseOutputAudioDelta)
    assert delta.delta == samples.AUDIO
    assert "4864 bytes" in repr(delta)  # a repr never dumps the audio
    append = wire.InputAudioBufferAppend(audio=samples.AUDIO)
    assert json.loads(wire.encode_client_event(append))["audio"] == samples.AUDIO_B64


def test_error_event_is_typed() -> None:
    event = wire.decode_server_event(json.dumps(samples.SERVER_SAMPLES["error"]))
    assert isinstance(event, wire.ServerError)
    assert event.error.code == "conversation_already_has_active_response"
    assert event.error.event_id == "client_7"


def test_unknown_type_is_kept_not_refused() -> None:
    event = wire.decode_server_event('{"type":"response.new_thing","x":[1,2]}')
    assert event == wire.UnknownServerEvent(
        type="response.new_thing", raw={"type": "response.new_thing", "x": [1, 2]}
    )
    assert json.loads(wire.encode_server_event(event)) == event.raw


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        ("{", ["malformed"]),
        ("[1]", ["JSON object"]),
        ('{"type": 3}', ["type"]),
        ('"str"', ["JSON object"]),
        (b"\xff\xfe\x00", ["malformed"]),
        (
            '{"type":"conversation.item.deleted","event_id":"e"}',
            ["conversation.item.deleted", "'item_id'", "missing"],
        ),
        (
            '{"type":"conversation.item.truncated","event_id":"e","item_id":"i",'
            '"content_index":true,"audio_end_ms":5}',
            ["conversation.item.truncated", "'content_index'", "integer", "boolean"],
        ),
        (
            '{"type":"response.output_audio.delta","event_id":"e","response_id":"r",'
            '"item_id":"i","output_index":0,"content_index":0,"delta":"abc"}',
            ["response.output_audio.delta", "'delta'", "base64"],
        ),
        (
            '{"type":"response.output_audio.delta","event_id":"e","response_id":"r",'
            '"item_id":"i","output_index":0,"content_index":0,"delta":"YW Jj"}',
            ["'delta'", "base64"],
        ),
        ('{"type":"error","event_id":"e","error":{"type":"x"}}', ["'message'", "missing"]),
        ('{"type":"rate_limits.updated","event_id":"e","rate_limits":[1]}', ["'rate_limits'"]),
        ("[" * 100_000, ["malformed"]),
        (
            '{"type":"conversation.item.truncated","event_id":"e","item_id":"i","content_index":0,'
            '"audio_end_ms":' + "9" * 5000 + "}",
            ["malformed"],
        ),
    ],
)
def test_bad_frames_raise_remote_protocol_error_naming_the_field(
    frame: str | bytes, words: list[str]
) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        wire.decode_server_event(frame)
    for word in words:
        assert word in str(info.value)


def test_remote_error_carries_event_type_and_field() -> None:
    with pytest.raises(RemoteProtocolError) as info:
        wire.decode_server_event('{"type":"conversation.item.deleted","event_id":"e","item_id":1}')
    assert info.value.event_type == "conversation.item.deleted"
    assert info.value.field == "item_id"


def test_floats_accept_json_integers() -> None:
    payload = dict(samples.SERVER_SAMPLES["conversation.item.input_audio_transcription.segment"])
    payload["start"] = 0
    event = wire.decode_server_event(json.dumps(payload))
    assert isinstance(event, wire.InputAudioTranscriptionSegment)
    assert event.start == 0.0
    assert isinstance(event.start, float)


def test_encoding_a_badly_built_event_is_a_local_error() -> None:
    with pytest.raises(LocalProtocolError, match="'item_id'"):
        wire.encode_client_event(wire.ConversationItemDelete(item_id=5))  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="'audio'"):
        wire.encode_client_event(wire.InputAudioBufferAppend(audio="abc"))  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="not a ClientEventBase"):
        wire.encode_client_event(42)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="dialect"):
        wire.encode_client_event(wire.InputAudioBufferCommit(), dialect="v2")  # type: ignore[arg-type]


def test_raw_mapping_events_pass_through() -> None:
    raw = {"type": "input_audio_buffer.commit", "event_id": "mine"}
    assert json.loads(wire.encode_client_event(raw)) == raw
    with pytest.raises(LocalProtocolError):
        wire.encode_client_event({"no": "type"})


def test_unknown_client_event_type_is_a_remote_error() -> None:
    with pytest.raises(RemoteProtocolError, match="unknown client event"):
        wire.decode_client_event('{"type":"session.destroy"}')


# --- robustness: whatever the bytes, only RemoteProtocolError -------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def _decode_or_remote_error(data: str | bytes, dialect: Any = "ga") -> None:
    with contextlib.suppress(RemoteProtocolError):
        wire.decode_server_event(data, dialect=dialect)


@settings(max_examples=300)
@given(st.binary(max_size=300), st.sampled_from(["ga", "beta"]))
def test_arbitrary_bytes_raise_nothing_but_remote_protocol_error(data: bytes, dialect: str) -> None:
    _decode_or_remote_error(data, dialect)


@settings(max_examples=300)
@given(json_values, st.sampled_from(["ga", "beta"]))
def test_arbitrary_json_raises_nothing_but_remote_protocol_error(value: Any, dialect: str) -> None:
    _decode_or_remote_error(json.dumps(value), dialect)


@settings(max_examples=500)
@given(
    st.sampled_from(SERVER_TYPES),
    st.data(),
    st.sampled_from(["ga", "beta"]),
)
def test_mutated_real_events_raise_nothing_but_remote_protocol_error(
    event_type: str, data: st.DataObject, dialect: str
) -> None:
    payload: dict[str, Any] = dict(samples.SERVER_SAMPLES[event_type])
    if dialect == "beta":
        payload = beta.server_event_to_beta(payload)
    keys = sorted(payload)
    for _ in range(data.draw(st.integers(1, 3))):
        key = data.draw(st.sampled_from(keys))
        if key == "type":
            continue
        if data.draw(st.booleans()):
            payload.pop(key, None)
        else:
            payload[key] = data.draw(json_values)
    _decode_or_remote_error(json.dumps(payload), dialect)


@settings(max_examples=200)
@given(st.sampled_from(CLIENT_TYPES), json_values, st.sampled_from(["ga", "beta"]))
def test_mutated_client_events_raise_nothing_but_remote_protocol_error(
    event_type: str, junk: Any, dialect: str
) -> None:
    payload = dict(samples.CLIENT_SAMPLES[event_type])
    for key in list(payload):
        if key != "type":
            payload[key] = junk
    with contextlib.suppress(RemoteProtocolError):
        wire.decode_client_event(json.dumps(payload), dialect=dialect)  # type: ignore[arg-type]
