"""Deferred response.create, turns, errors and malformed frames, user messages and audio."""

from __future__ import annotations

import json

from realtime_sansio.protocol import (
    RunConfig,
    SessionModelSettings,
    TurnDetectionConfig,
    events,
    inputs,
    session,
    wire,
)
from realtime_sansio.protocol.items import user_message
from session_helpers import (
    active_response,
    agent,
    created,
    creates,
    done,
    error,
    errors,
    notable,
    of_type,
    one,
    sent,
    sent_types,
    session_updated,
    started,
)

# -- one active response, deferred and coalesced requests ------------------------------------


def test_a_message_asks_for_a_response_at_once_when_nothing_is_active() -> None:
    s = started()
    out = s.handle(inputs.SendMessage(message="hi"))
    assert sent_types(out) == ["conversation.item.create", "response.create"]
    assert creates(out)[0].event_id is not None
    assert s.response_active


def test_a_request_while_our_create_is_in_flight_is_deferred() -> None:
    s = started()
    s.handle(inputs.SendMessage(message="one"))
    out = s.handle(inputs.SendMessage(message="two"))
    assert sent_types(out) == ["conversation.item.create"]


def test_a_request_while_a_response_is_active_is_deferred_until_its_done() -> None:
    s = started()
    active_response(s, "r1")
    assert creates(s.handle(inputs.SendMessage(message="two"))) == []
    out = s.handle(done("r1"))
    assert len(creates(out)) == 1


def test_deferred_requests_coalesce_into_one_create() -> None:
    s = started()
    active_response(s, "r1")
    for text in ("a", "b", "c"):
        s.handle(inputs.SendMessage(message=text))
    s.handle(inputs.SendRawEvent(event={"type": "response.create"}))
    out = s.handle(done("r1"))
    assert len(creates(out)) == 1
    s.handle(created("r2"))
    assert creates(s.handle(done("r2"))) == []
    assert not s.response_active


def test_a_server_made_response_blocks_requests_too() -> None:
    s = started()
    s.handle(created("vad_1"))  # server VAD made it
    assert s.response_active
    assert creates(s.handle(inputs.SendMessage(message="hi"))) == []
    assert len(creates(s.handle(done("vad_1")))) == 1


def test_a_refused_create_is_deferred_again_not_lost() -> None:
    s = started()
    (ours,) = creates(s.handle(inputs.SendMessage(message="hi")))
    out = s.handle(error("conversation_already_has_active_response", event_id=ours.event_id))
    assert errors(out) == []
    s.handle(created("vad_1"))
    out = s.handle(done("vad_1"))
    assert len(creates(out)) == 1


def test_a_raw_response_create_obeys_the_deferral() -> None:
    s = started()
    active_response(s, "r1")
    raw = {"type": "response.create", "response": {"instructions": "Say bye."}}
    assert sent(s.handle(inputs.SendRawEvent(event=raw))) == []
    (create,) = creates(s.handle(done("r1")))
    assert create.response == {"instructions": "Say bye."}


def test_an_out_of_band_create_is_sent_at_once_even_while_a_response_is_active() -> None:
    s = started()
    active_response(s, "r1")
    raw = {
        "type": "response.create",
        "response": {"conversation": "none", "output_modalities": ["text"]},
    }
    out = s.handle(inputs.SendRawEvent(event=raw))
    (event,) = sent(out)
    assert isinstance(event, wire.RawClientEvent)
    assert event.payload == raw


def test_an_out_of_band_create_does_not_block_the_next_request() -> None:
    s = started()
    raw = wire.ResponseCreate(response={"conversation": "none"})
    assert sent(s.handle(inputs.SendRawEvent(event=raw))) == [raw]
    assert not s.response_active
    assert len(creates(s.handle(inputs.SendMessage(message="hi")))) == 1


def test_an_out_of_band_response_does_not_count_as_active() -> None:
    s = started()
    out = s.handle(created("oob_1", out_of_band=True))
    assert of_type(out, events.AgentStartEvent) == []
    assert not s.response_active
    assert len(creates(s.handle(inputs.SendMessage(message="hi")))) == 1


def test_the_end_of_an_out_of_band_response_does_not_release_a_deferred_request() -> None:
    s = started()
    active_response(s, "r1")
    s.handle(inputs.SendMessage(message="two"))
    s.handle(created("oob_1", out_of_band=True))
    out = s.handle(done("oob_1", out_of_band=True))
    assert creates(out) == []
    assert of_type(out, events.AgentEndEvent) == []
    assert len(creates(s.handle(done("r1")))) == 1


# -- turns -----------------------------------------------------------------------------------


def test_agent_start_and_end_events_frame_a_response() -> None:
    the_agent = agent()
    s = started(the_agent)
    start = one(s.handle(created("r1")), events.AgentStartEvent)
    assert (start.agent, start.response_id) == (the_agent, "r1")
    end = one(s.handle(done("r1", status="cancelled")), events.AgentEndEvent)
    assert (end.agent, end.response_id, end.status) == (the_agent, "r1", "cancelled")
    assert not s.response_active


# -- errors ----------------------------------------------------------------------------------


def test_a_failed_response_is_an_error_event() -> None:
    s = started()
    s.handle(created("r1"))
    out = s.handle(done("r1", status="failed", error=("rate_limit_exceeded", "Slow down.")))
    err = one(out, events.ErrorEvent)
    assert (err.code, err.message, err.response_id) == ("rate_limit_exceeded", "Slow down.", "r1")
    assert one(out, events.AgentEndEvent).status == "failed"


def test_a_server_error_is_an_error_event() -> None:
    s = started()
    out = s.handle(error("invalid_value", event_id="evt_9", message="Bad voice."))
    err = one(out, events.ErrorEvent)
    assert (err.code, err.message, err.event_id) == ("invalid_value", "Bad voice.", "evt_9")
    assert err.type == "invalid_request_error"


def test_cancelling_what_just_ended_is_harmless() -> None:
    s = started()
    out = s.handle(error("response_cancel_not_active", event_id="evt_3"))
    assert errors(out) == []
    assert sent(out) == []


def test_garbage_text_is_an_error_event_not_an_exception() -> None:
    s = started()
    out = s.handle("{not json")
    assert one(out, events.ErrorEvent).code == "malformed_frame"
    assert sent(out) == []
    assert one(s.handle(b"\xff\xfe"), events.ErrorEvent).code == "malformed_frame"


def test_a_known_event_missing_a_field_is_an_error_event() -> None:
    s = started()
    frame = json.dumps({"type": "response.output_audio.delta", "event_id": "e1", "delta": ""})
    err = one(s.handle(frame), events.ErrorEvent)
    assert "response.output_audio.delta" in err.message


def test_a_response_without_an_id_is_an_error_event() -> None:
    s = started()
    frame = json.dumps({"type": "response.created", "event_id": "e1", "response": {}})
    assert len(errors(s.handle(frame))) == 1
    assert not s.response_active


# -- user messages ---------------------------------------------------------------------------


def test_send_message_creates_a_user_text_item() -> None:
    s = started()
    out = s.handle(inputs.SendMessage(message="What's the weather?"))
    item = one(out, wire.ConversationItemCreate).item
    assert item == {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "What's the weather?"}],
    }


def test_send_message_takes_text_with_an_image() -> None:
    s = started()
    image = "data:image/png;base64,iVBORw0KGgo="
    out = s.handle(inputs.SendMessage(message=user_message("What is this?", [image])))
    assert sent_types(out) == ["conversation.item.create", "response.create"]
    item = one(out, wire.ConversationItemCreate).item
    assert item["content"] == [
        {"type": "input_text", "text": "What is this?"},
        {"type": "input_image", "image_url": image},
    ]


# -- user audio ------------------------------------------------------------------------------


def test_audio_is_appended_as_given() -> None:
    s = started()
    out = s.handle(inputs.SendAudio(data=b"\x01\x02" * 480))
    (append,) = sent(out)
    assert isinstance(append, wire.InputAudioBufferAppend)
    assert append.audio == b"\x01\x02" * 480


def test_large_audio_is_split_below_15_mib_of_base64() -> None:
    s = started()
    data = bytes(range(256)) * (session.MAX_APPEND_BYTES * 2 // 256 + 1)
    out = s.handle(inputs.SendAudio(data=data))
    appends = sent(out)
    assert len(appends) == 3
    assert b"".join(a.audio for a in appends) == data
    for append in appends:
        assert len(s.encode(append)) - len('{"type":"input_audio_buffer.append","audio":""}') <= (
            15 * 1024 * 1024
        )
    assert len(appends[0].audio) == session.MAX_APPEND_BYTES


def test_commit_follows_the_appends() -> None:
    s = started()
    out = s.handle(inputs.SendAudio(data=b"\x00\x00" * 240, commit=True))
    assert sent_types(out) == ["input_audio_buffer.append", "input_audio_buffer.commit"]


def test_push_to_talk_commit_requests_a_response() -> None:
    config = RunConfig(model_settings=SessionModelSettings(turn_detection=None))
    s = started(config=config)
    out = s.handle(inputs.SendAudio(data=b"\x00\x00" * 240, commit=True))
    assert sent_types(out) == [
        "input_audio_buffer.append",
        "input_audio_buffer.commit",
        "response.create",
    ]


def test_push_to_talk_commit_while_a_response_is_active_is_deferred() -> None:
    config = RunConfig(model_settings=SessionModelSettings(turn_detection=None))
    s = started(config=config)
    active_response(s, "r1")
    out = s.handle(inputs.SendAudio(data=b"\x00\x00", commit=True))
    assert creates(out) == []
    assert len(creates(s.handle(done("r1")))) == 1


def test_with_vad_a_commit_requests_no_response() -> None:
    config = RunConfig(
        model_settings=SessionModelSettings(turn_detection=TurnDetectionConfig.server_vad())
    )
    s = started(config=config)
    assert creates(s.handle(inputs.SendAudio(data=b"\x00\x00", commit=True))) == []
    assert creates(started().handle(inputs.SendAudio(data=b"\x00\x00", commit=True))) == []


def test_the_servers_word_on_turn_detection_counts() -> None:
    s = started()
    s.handle(session_updated({"audio": {"input": {"turn_detection": None}}}))
    out = s.handle(inputs.SendAudio(data=b"\x00\x00", commit=True))
    assert len(creates(out)) == 1


def test_switching_to_push_to_talk_mid_session_counts() -> None:
    s = started()
    s.handle(inputs.UpdateSession(settings=SessionModelSettings(turn_detection=None)))
    out = s.handle(inputs.SendAudio(data=b"\x00\x00", commit=True))
    assert len(creates(out)) == 1


def test_clear_audio_clears_the_input_buffer() -> None:
    s = started()
    assert sent_types(s.handle(inputs.ClearAudio())) == ["input_audio_buffer.clear"]


def test_every_server_event_is_echoed_as_a_raw_model_event() -> None:
    s = started()
    event = created("r1")
    out = s.handle(event)
    assert one(out, events.RawModelEvent).data is event
    assert len(notable(out)) == len(out) - 1
