"""Conformance with the official ``openai`` package's GA and beta models (DESIGN.md section 7)."""

from __future__ import annotations

import json
from typing import Any

import oracle
import pydantic
import pytest
import wire_samples as samples
from hypothesis import given, settings
from hypothesis import strategies as st
from realtime_sansio.protocol import wire

ids = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=12)
maybe_id = st.none() | ids
texts = st.text(max_size=40)

client_events = st.one_of(
    st.builds(wire.SessionUpdate, session=st.just(samples.SESSION), event_id=maybe_id),
    st.builds(wire.InputAudioBufferAppend, audio=st.binary(max_size=64), event_id=maybe_id),
    st.builds(wire.InputAudioBufferCommit, event_id=maybe_id),
    st.builds(wire.InputAudioBufferClear, event_id=maybe_id),
    st.builds(wire.OutputAudioBufferClear, event_id=maybe_id),
    st.builds(
        wire.ConversationItemCreate,
        item=st.builds(
            lambda text, role: {
                "type": "message",
                "role": role,
                "content": [
                    {"type": "output_text" if role == "assistant" else "input_text", "text": text}
                ],
            },
            texts,
            st.sampled_from(["user", "assistant", "system"]),
        ),
        previous_item_id=maybe_id,
        event_id=maybe_id,
    ),
    st.builds(wire.ConversationItemRetrieve, item_id=ids, event_id=maybe_id),
    st.builds(
        wire.ConversationItemTruncate,
        item_id=ids,
        content_index=st.integers(0, 3),
        audio_end_ms=st.integers(0, 3_600_000),
        event_id=maybe_id,
    ),
    st.builds(wire.ConversationItemDelete, item_id=ids, event_id=maybe_id),
    st.builds(
        wire.ResponseCreate,
        response=st.none() | st.just(samples.CLIENT_SAMPLES["response.create"]["response"]),
        event_id=maybe_id,
    ),
    st.builds(wire.ResponseCancel, response_id=maybe_id, event_id=maybe_id),
)


@settings(max_examples=300)
@given(client_events)
def test_every_client_event_we_encode_validates_with_extra_forbidden(event: Any) -> None:
    oracle.validate_client_event(json.loads(wire.encode_client_event(event)))


@settings(max_examples=200)
@given(client_events)
def test_every_beta_client_event_we_encode_validates_against_the_beta_models(event: Any) -> None:
    oracle.validate_beta_client_event(json.loads(wire.encode_client_event(event, dialect="beta")))


@pytest.mark.parametrize("event_type", sorted(samples.SERVER_SAMPLES))
def test_server_fixtures_validate_and_so_do_our_reencodings(event_type: str) -> None:
    payload = samples.SERVER_SAMPLES[event_type]
    oracle.validate_server_event(payload)
    event = wire.decode_server_event(json.dumps(payload))
    oracle.validate_server_event(json.loads(wire.encode_server_event(event)))


@pytest.mark.parametrize("event_type", sorted(samples.SERVER_SAMPLES))
def test_beta_server_encodings_validate_where_beta_has_the_event(event_type: str) -> None:
    event = wire.decode_server_event(json.dumps(samples.SERVER_SAMPLES[event_type]))
    beta_payload = json.loads(wire.encode_server_event(event, dialect="beta"))
    if beta_payload["type"] in oracle.BETA_SERVER_EVENT_TYPES:
        oracle.validate_beta_server_event(beta_payload)
    else:  # GA-only events (item.added/done, MCP, segments...) keep their GA names
        assert beta_payload["type"] == event_type


def test_the_oracle_really_forbids_unknown_fields() -> None:
    # Guards the guard: a misspelt field must fail, nested or not.
    with pytest.raises(pydantic.ValidationError):
        oracle.validate_client_event({"type": "input_audio_buffer.commit", "evnt_id": "x"})
    bad_session = {"type": "realtime", "audio": {"input": {"formatt": {}}}}
    with pytest.raises(pydantic.ValidationError):
        oracle.validate_client_event({"type": "session.update", "session": bad_session})
